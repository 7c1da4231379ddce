// `mixi-search purge`: what the server's retention timer does, offline.
#include "analytics/search_log.h"
#include "cli/commands.h"
#include "common/dates.h"

#include <boost/program_options.hpp>
#include <ctime>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

int run_purge(const Args& args) {
    std::string data, now_text;
    analytics::RetentionOptions options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help")("data", po::value(&data)->default_value("var"),
                                                   "data directory (analytics.sqlite)")(
        "retention-days", po::value(&options.retention_days)->default_value(options.retention_days),
        "raw search-log rows older than this are deleted")(
        "aggregate-retention-days",
        po::value(&options.aggregate_retention_days)
            ->default_value(options.aggregate_retention_days),
        "daily aggregates older than this are deleted")(
        "now", po::value(&now_text), "purge as if it were this time (ISO 8601; default: now)");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search purge: " << e.what() << "\n";
        return exit_usage;
    }
    if (vm.count("help")) {
        std::cout << "usage: mixi-search purge [options]\n\n" << opts;
        return exit_ok;
    }
    if (options.retention_days < 1 || options.aggregate_retention_days < options.retention_days) {
        std::cerr << "mixi-search purge: --retention-days must be >= 1 and "
                     "--aggregate-retention-days >= --retention-days\n";
        return exit_usage;
    }
    std::int64_t now = std::time(nullptr);
    if (!now_text.empty()) {
        auto t = parse_date(now_text);
        if (!t) {
            std::cerr << "mixi-search purge: --now \"" << now_text << "\" is not a date\n";
            return exit_usage;
        }
        now = *t;
    }
    auto log = analytics::SearchLog::open(data);
    if (!log) {
        std::cerr << "mixi-search: " << log.error().message << "\n";
        return exit_error;
    }
    auto report = log->purge(now, options);
    if (!report) {
        std::cerr << "mixi-search: " << report.error().message << "\n";
        return exit_error;
    }
    std::cout << "deleted " << report->rows << " search-log rows older than "
              << options.retention_days << " days and " << report->aggregates
              << " daily aggregates older than " << options.aggregate_retention_days << " days\n";
    return exit_ok;
}

} // namespace mixi::cli
