// `mixi-search account export|delete`: the admin API's account routes, offline.
#include "analytics/search_log.h"
#include "cli/commands.h"
#include "cli/config_options.h"
#include "common/dates.h"
#include "server/options.h"

#include <boost/program_options.hpp>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

int run_account(const Args& args) {
    std::string from, to;
    std::vector<std::string> positional;
    long long entry = -1;
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("data", po::value<std::string>(),
                       "data directory: analytics.sqlite (server.data_dir)")(
        "from", po::value(&from), "delete: only searches on or after this time")(
        "to", po::value(&to), "delete: only searches before the end of this period")(
        "entry", po::value(&entry), "delete: only the search with this id (from the export)");
    po::options_description all;
    all.add(opts).add_options()("args", po::value(&positional)->composing());
    po::positional_options_description pos;
    pos.add("args", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search account: " << e.what() << "\n";
        return exit_usage;
    }
    if (vm.count("help") || positional.size() != 2 ||
        (positional[0] != "export" && positional[0] != "delete")) {
        std::cout << "usage: mixi-search account export ID [--data DIR]\n"
                     "       mixi-search account delete ID [--data DIR] [--from T] [--to T] "
                     "[--entry N]\n\n"
                  << opts;
        return vm.count("help") ? exit_ok : exit_usage;
    }
    auto config = load_config("account", config_options, vm, {{"data", "server.data_dir"}});
    if (!config)
        return exit_usage;
    const std::string& account = positional[1];
    auto log = analytics::SearchLog::open(server::analytics_store(*config));
    if (!log) {
        std::cerr << "mixi-search: " << log.error().message << "\n";
        return exit_error;
    }
    if (positional[0] == "export") {
        auto history = log->account_history(account);
        if (!history) {
            std::cerr << "mixi-search: " << history.error().message << "\n";
            return exit_error;
        }
        std::cout << analytics::export_json(account, *history) << "\n";
        return exit_ok;
    }
    Expected<std::int64_t> n = 0;
    if (entry >= 0) {
        n = log->delete_entry(account, entry);
    } else {
        std::optional<std::int64_t> lo, hi;
        if (!from.empty() && !(lo = parse_date(from))) {
            std::cerr << "mixi-search account: --from \"" << from << "\" is not a date\n";
            return exit_usage;
        }
        if (!to.empty() && !(hi = parse_date_end(to))) {
            std::cerr << "mixi-search account: --to \"" << to << "\" is not a date\n";
            return exit_usage;
        }
        n = log->delete_account(account, lo, hi);
    }
    if (!n) {
        std::cerr << "mixi-search: " << n.error().message << "\n";
        return exit_error;
    }
    std::cout << "deleted " << *n << " searches of " << account << "\n";
    return entry >= 0 && *n == 0 ? exit_partial : exit_ok;
}

} // namespace mixi::cli
