// `mixi-search purge`: what the server's retention timer does, offline.
#include "analytics/search_log.h"
#include "cli/commands.h"
#include "cli/config_options.h"
#include "common/dates.h"

#include <boost/program_options.hpp>
#include <ctime>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

int run_purge(const Args& args) {
    std::string now_text;
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("data", po::value<std::string>(),
                       "data directory: analytics.sqlite (server.data_dir)")(
        "retention-days", po::value<std::string>(),
        "raw search-log rows older than this are deleted (analytics.retention_days)")(
        "aggregate-retention-days", po::value<std::string>(),
        "daily aggregates older than this are deleted (analytics.aggregate_retention_days)")(
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
    // The server's retention, loaded as the server loads it.
    auto config = load_config("purge", config_options, vm,
                              {{"data", "server.data_dir"},
                               {"retention-days", "analytics.retention_days"},
                               {"aggregate-retention-days", "analytics.aggregate_retention_days"}});
    if (!config)
        return exit_usage;
    analytics::RetentionOptions options;
    options.retention_days = config->retention_days;
    options.aggregate_retention_days = config->aggregate_retention_days;
    options.k = config->report_k;
    options.k_distinct = config->report_k_distinct;
    if (config->trends.enabled) {
        options.trend_days = config->trends.days;
        options.trend_epsilon = config->trends.epsilon;
        options.trend_delta = config->trends.delta;
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
    auto log = analytics::SearchLog::open(config->data_dir);
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
