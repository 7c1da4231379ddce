// `mixi-search report popular|zero-results|trending|volume`
#include "analytics/reports.h"
#include "analytics/trends.h"
#include "analytics/views.h"
#include "cli/commands.h"
#include "cli/config_options.h"
#include "common/dates.h"
#include "server/options.h"

#include <boost/program_options.hpp>
#include <ctime>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

namespace {

/// `report trending --dp-epsilon`: a release of complete days only, since a later day's
/// searches would change what was released.
int release_trends(analytics::Database& db, const analytics::ReportRequest& req,
                   const analytics::DpOptions& dp, const std::string& format) {
    if (req.kind != analytics::ReportKind::trending) {
        std::cerr << "mixi-search report: --dp-epsilon releases trending terms only\n";
        return exit_usage;
    }
    const std::int64_t now = std::time(nullptr);
    if (req.to_day >= analytics::day_of(now)) {
        std::cerr << "mixi-search report: a private release covers complete days: --to must be "
                     "before today\n";
        return exit_usage;
    }
    analytics::TrendRequest t{req.from_day, req.to_day, req.country, req.lang, req.top, req.k};
    auto release = analytics::release_trends(db, t, dp, now);
    if (!release) {
        std::cerr << "mixi-search: " << release.error().message << "\n";
        return release.error().code == ErrorCode::invalid_argument ? exit_usage : exit_error;
    }
    if (format == "csv")
        std::cout << analytics::trends_csv(*release);
    else if (format == "json")
        std::cout << analytics::trends_json(*release) << "\n";
    else
        std::cout << analytics::trends_table(*release);
    return exit_ok;
}

} // namespace

int run_report(const Args& args) {
    std::string from, to, format;
    ConfigOptions config_options;
    std::uint64_t k = 0, k_distinct = 0;
    double dp_epsilon = 0, dp_delta = 1e-6;
    std::vector<std::string> positional;
    analytics::ReportRequest req;
    const std::string from_help =
        "first day (YYYY-MM-DD; default: " + std::to_string(analytics::default_report_days - 1) +
        " days before --to)";
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("data", po::value<std::string>(), "data directory (server.data_dir)")(
        "from", po::value(&from), from_help.c_str())("to", po::value(&to),
                                                     "last day (default: today, UTC)")(
        "country", po::value(&req.country), "only searches from this country (JP)")(
        "lang", po::value(&req.lang), "only searches in this language (ja)")(
        "top", po::value(&req.top)->default_value(req.top), "terms to show")(
        "k", po::value(&k), "raise the searches a term needs (never below analytics.report_k)")(
        "k-distinct", po::value(&k_distinct),
        "raise the distinct searchers a term needs on one day (never below "
        "analytics.report_k_distinct)")("format", po::value(&format)->default_value("table"),
                                        "table, csv or json")(
        "dp-epsilon", po::value(&dp_epsilon),
        "trending only: a differentially private release for publishing, with this epsilon per "
        "searcher-day (stored: the same request returns the same release)")(
        "dp-delta", po::value(&dp_delta)->default_value(dp_delta),
        "with --dp-epsilon: the chance a term one searcher-day searched is shown");
    po::options_description all;
    all.add(opts).add_options()("kind", po::value(&positional)->composing());
    po::positional_options_description pos;
    pos.add("kind", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search report: " << e.what() << "\n";
        return exit_usage;
    }
    const auto kind = positional.size() == 1 ? analytics::report_kind(positional[0]) : std::nullopt;
    if (vm.count("help") || !kind) {
        std::cout << "usage: mixi-search report popular|zero-results|trending|volume [options]\n\n"
                  << opts;
        return vm.count("help") ? exit_ok : exit_usage;
    }
    req.kind = *kind;
    // The thresholds of the deployment, loaded as the server loads them; flags may only raise
    // them, so the CLI never shows what the API would hide.
    auto config = load_config("report", config_options, vm, {{"data", "server.data_dir"}});
    if (!config)
        return exit_usage;
    req.k = std::max(config->report_k, k);
    req.k_distinct = std::max(config->report_k_distinct, k_distinct);
    std::optional<std::int64_t> from_date, to_date;
    if (!to.empty()) {
        to_date = parse_date(to);
        if (!to_date) {
            std::cerr << "mixi-search report: --to \"" << to << "\" is not a date\n";
            return exit_usage;
        }
    }
    if (!from.empty()) {
        from_date = parse_date(from);
        if (!from_date) {
            std::cerr << "mixi-search report: --from \"" << from << "\" is not a date\n";
            return exit_usage;
        }
    }
    const auto period = analytics::report_period(std::time(nullptr), from_date, to_date);
    req.from_day = period.from_day;
    req.to_day = period.to_day;
    if (format != "table" && format != "csv" && format != "json") {
        std::cerr << "mixi-search report: --format must be table, csv or json\n";
        return exit_usage;
    }
    auto db = analytics::Database::connect(server::analytics_store(*config));
    if (!db) {
        std::cerr << "mixi-search: " << db.error().message << "\n";
        return exit_error;
    }
    if (vm.count("dp-epsilon"))
        return release_trends(*db, req, {dp_epsilon, dp_delta}, format);
    auto report = analytics::build_report(*db, req);
    if (!report) {
        std::cerr << "mixi-search: " << report.error().message << "\n";
        return report.error().code == ErrorCode::invalid_argument ? exit_usage : exit_error;
    }
    if (format == "csv")
        std::cout << analytics::report_csv(*report);
    else if (format == "json")
        std::cout << analytics::report_json(*report) << "\n";
    else
        std::cout << analytics::report_table(*report);
    return exit_ok;
}

} // namespace mixi::cli
