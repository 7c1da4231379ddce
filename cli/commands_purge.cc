// `mixi-search purge`: what the server's retention timer does (operations::purge_expired),
// offline.
#include "cli/commands.h"
#include "cli/config_options.h"
#include "common/dates.h"
#include "common/index_layout.h"
#include "operations/purge.h"
#include "server/options.h"

#include <boost/program_options.hpp>
#include <ctime>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

int run_purge(const Args& args) {
    std::string now_text, index;
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("data", po::value<std::string>(),
                       "data directory: analytics.sqlite (server.data_dir)")(
        "index", po::value(&index),
        "index directory: the page-view counts of documents not in it are deleted")(
        "retention-days", po::value<std::string>(),
        "raw search-log rows older than this are deleted (analytics.retention_days)")(
        "aggregate-retention-days", po::value<std::string>(),
        "daily aggregates older than this are deleted (analytics.aggregate_retention_days)")(
        "view-retention-days", po::value<std::string>(),
        "page-view counts older than this are deleted (analytics.view_retention_days)")(
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
                               {"aggregate-retention-days", "analytics.aggregate_retention_days"},
                               {"view-retention-days", "analytics.view_retention_days"}});
    if (!config)
        return exit_usage;
    operations::PurgeOptions options;
    options.store = server::analytics_store(*config);
    options.index = index;
    options.log = server::retention_options(*config);
    options.view_retention_days = config->view_retention_days;
    options.now = std::time(nullptr);
    if (!now_text.empty()) {
        auto t = parse_date(now_text);
        if (!t) {
            std::cerr << "mixi-search purge: --now \"" << now_text << "\" is not a date\n";
            return exit_usage;
        }
        options.now = *t;
    }
    auto report = operations::purge_expired(options);
    if (!report) {
        std::cerr << "mixi-search: " << report.error().message << "\n";
        return exit_error;
    }
    if (report->skipped) {
        std::cout << "another process is purging " << options.store.printable()
                  << "; nothing done\n";
        return 0;
    }
    std::cout << "deleted " << report->log.rows << " search-log rows older than "
              << options.log.retention_days << " days and " << report->log.aggregates
              << " daily aggregates older than " << options.log.aggregate_retention_days
              << " days\n"
              << "deleted " << report->trend_releases << " trend releases older than "
              << options.log.aggregate_retention_days << " days and " << report->expired_views
              << " page-view counts older than " << options.view_retention_days << " days\n";
    if (report->index_checked) {
        std::cout << "deleted " << report->gone_views << " page-view counts of "
                  << report->gone_documents << " documents not in the index\n";
    } else if (!index.empty()) {
        // Not built yet (a fresh install): nothing to compare the counts with, which is no
        // failure of the purge. An index that cannot be read failed purge_expired above.
        std::cerr << "mixi-search: no index at " << index
                  << " yet: the counts of deleted documents were not checked\n";
    }
    return exit_ok;
}

} // namespace mixi::cli
