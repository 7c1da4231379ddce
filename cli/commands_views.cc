// `mixi-search views import|stats`
#include "analytics/views.h"
#include "cli/commands.h"
#include "cli/config_options.h"
#include "common/dates.h"
#include "query/searcher.h"
#include "server/options.h"

#include <boost/program_options.hpp>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

namespace {

std::string day_text(std::int64_t day) {
    return format_date(day * 86400).substr(0, 10);
}

int import(const Args& args) {
    std::vector<std::string> files;
    bool strict = false;
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("data", po::value<std::string>(),
                       "data directory: analytics.sqlite (server.data_dir)")(
        "index", po::value<std::string>(),
        "index directory: URLs become ids, unknown documents are skipped (server.index)")(
        "strict", po::bool_switch(&strict), "stop at the first bad line and store nothing");
    po::options_description all;
    all.add(opts).add_options()("file", po::value(&files)->composing());
    po::positional_options_description positional;
    positional.add("file", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search views import: " << e.what() << "\n";
        return exit_usage;
    }
    if (vm.count("help") || files.empty()) {
        std::cout << "usage: mixi-search views import [options] FILE.csv...\n\n"
                     "Each line: document,region,day,count; document is an id or a URL, region\n"
                     "a two-letter country code, day YYYY-MM-DD. A first line id,... or url,...\n"
                     "names the first column.\n\n"
                  << opts;
        return vm.count("help") ? exit_ok : exit_usage;
    }
    auto config = load_config("views import", config_options, vm,
                              {{"data", "server.data_dir"}, {"index", "server.index"}});
    if (!config)
        return exit_usage;
    auto searcher = query::Searcher::open(config->index);
    if (!searcher) {
        std::cerr << "mixi-search: " << searcher.error().message << "\n";
        return exit_error;
    }
    auto store = analytics::ViewStore::open(server::analytics_store(*config));
    if (!store) {
        std::cerr << "mixi-search: " << store.error().message << "\n";
        return exit_error;
    }
    analytics::ImportOptions options;
    options.resolve_url = [&](std::string_view url) { return searcher->id_for_url(url); };
    options.resolve_id = [&](std::string_view id) -> std::optional<std::string> {
        if (searcher->has_document(id))
            return std::string(id);
        return std::nullopt;
    };
    options.stop_on_error = strict;
    std::size_t skipped = 0;
    for (const auto& file : files) {
        options.on_problem = [&](const analytics::CsvProblem& p) {
            std::cerr << file << ":" << p.line << ": " << p.reason << "\n";
        };
        auto report = analytics::import_views_csv(file, *store, options);
        if (!report) {
            std::cerr << "mixi-search: " << report.error().message << "\n";
            return exit_error;
        }
        skipped += report->skipped;
        std::cout << file << ": " << report->imported << " lines, " << report->views
                  << " views imported; " << report->skipped << " lines skipped\n";
    }
    return skipped ? exit_partial : exit_ok;
}

int stats(const Args& args) {
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("data", po::value<std::string>(),
                       "data directory: analytics.sqlite (server.data_dir)");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search views stats: " << e.what() << "\n";
        return exit_usage;
    }
    if (vm.count("help")) {
        std::cout << "usage: mixi-search views stats [--data DIR]\n\n" << opts;
        return exit_ok;
    }
    auto config = load_config("views stats", config_options, vm, {{"data", "server.data_dir"}});
    if (!config)
        return exit_usage;
    auto store = analytics::ViewStore::open(server::analytics_store(*config));
    if (!store) {
        std::cerr << "mixi-search: " << store.error().message << "\n";
        return exit_error;
    }
    auto s = store->stats();
    if (!s) {
        std::cerr << "mixi-search: " << s.error().message << "\n";
        return exit_error;
    }
    std::cout << "views: " << s->views << " in " << s->rows << " (document, region, day) counts\n"
              << "documents: " << s->documents << "\n";
    if (s->rows > 0)
        std::cout << "days: " << day_text(s->first_day) << " to " << day_text(s->last_day) << "\n";
    std::cout << "regions:";
    for (const auto& [region, n] : s->regions)
        std::cout << " " << region << "=" << n;
    std::cout << "\n";
    return exit_ok;
}

} // namespace

int run_views(const Args& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << "usage: mixi-search views import|stats [options]\n";
        return args.empty() ? exit_usage : exit_ok;
    }
    const Args rest(args.begin() + 1, args.end());
    if (args[0] == "import")
        return import(rest);
    if (args[0] == "stats")
        return stats(rest);
    std::cerr << "mixi-search views: unknown command \"" << args[0] << "\"\n";
    return exit_usage;
}

} // namespace mixi::cli
