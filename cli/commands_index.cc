// `mixi-search index build|update|delete|stats`
#include "cli/commands.h"
#include "cli/config_options.h"
#include "indexer/index_writer.h"
#include "operations/delete_document.h"
#include "server/options.h"

#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace mixi::cli {

namespace po = boost::program_options;

namespace {

void show_progress(const indexer::Progress& p) {
    const double rate = p.seconds > 0 ? static_cast<double>(p.documents) / p.seconds : 0;
    std::string eta = "?";
    if (p.fraction > 0.01 && p.fraction < 1) {
        const long left = std::lround(p.seconds * (1 - p.fraction) / p.fraction);
        eta = std::to_string(left / 60) + ":" + (left % 60 < 10 ? "0" : "") +
              std::to_string(left % 60);
    }
    std::fprintf(stderr, "\r  %llu docs  %.0f docs/s  %3.0f%%  ETA %s   ",
                 static_cast<unsigned long long>(p.documents), rate, p.fraction * 100, eta.c_str());
    std::fflush(stderr);
}

int print_error(const Error& e) {
    std::cerr << "mixi-search: " << e.message << "\n";
    return exit_error;
}

int print_help(const std::string& what, const po::options_description& opts) {
    std::cout << "usage: mixi-search index " << what << "\n\n" << opts;
    return exit_ok;
}

int write_command(const std::string& sub, const Args& args) {
    std::string dir;
    std::vector<std::string> paths;
    std::string default_visibility;
    indexer::IndexOptions options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help")("index", po::value(&dir)->default_value("index"),
                                                   "index directory")(
        "threads", po::value(&options.threads)->default_value(0),
        "analysis threads (0 = one per core)")("strict", po::bool_switch(&options.stop_on_error),
                                               "stop at the first bad record and change nothing")(
        "title-weight",
        po::value(&options.build.title_weight)->default_value(options.build.title_weight),
        "how much a title word counts against a body word")(
        "emphasis-weight",
        po::value(&options.build.emphasis_weight)->default_value(options.build.emphasis_weight),
        "how much a word of a heading (h1-h3) or the meta description counts against a body "
        "word")("default-visibility", po::value(&default_visibility)->default_value("private"),
                "what an NDJSON record without a \"visibility\" field is: private (not indexed; "
                "removed by an update) or public. HTML pages are public unless they say robots "
                "noindex")("quiet,q", "no progress display");
    if (sub == "build")
        opts.add_options()("shards", po::value(&options.shards)->default_value(0),
                           "split the index into N shards by a hash of the id (N >= 2; "
                           "updates and deletes find the shards themselves)");
    po::options_description hidden;
    hidden.add_options()("source", po::value(&paths)->composing());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description positional;
    positional.add("source", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help"))
        return print_help(sub +
                              " [--index DIR] [--threads N] [--strict] "
                              "[--default-visibility private|public]" +
                              (sub == "build" ? " [--shards N]" : "") + " SOURCE...",
                          opts);
    if (options.shards > 4096) {
        std::cerr << "mixi-search: --shards must be at most 4096\n";
        return exit_usage;
    }
    if (default_visibility != "private" && default_visibility != "public") {
        std::cerr << "mixi-search: --default-visibility must be private or public\n";
        return exit_usage;
    }
    const auto missing_visibility = default_visibility == "public"
                                        ? indexer::DefaultVisibility::public_
                                        : indexer::DefaultVisibility::private_;
    if (paths.empty()) {
        std::cerr << "mixi-search: index " << sub << " needs at least one SOURCE "
                  << "(an NDJSON file or a folder of HTML pages)\n";
        return exit_usage;
    }
    if (options.threads == 0)
        options.threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<indexer::Source>> sources;
    for (const auto& p : paths)
        sources.push_back(indexer::open_source(p, missing_visibility));
    const bool tty = ::isatty(STDERR_FILENO) && !vm.count("quiet");
    options.on_problem = [&](const indexer::SourceProblem& p) {
        if (tty)
            std::cerr << "\r\033[K";
        std::cerr << p.where << ": " << p.reason << "\n";
    };
    if (tty)
        options.on_progress = show_progress;
    auto report = sub == "build" ? indexer::build_index(dir, std::move(sources), options)
                                 : indexer::update_index(dir, std::move(sources), options);
    if (tty)
        std::cerr << "\r\033[K";
    if (!report)
        return print_error(report.error());
    const double rate = report->seconds > 0 ? report->indexed / report->seconds : 0;
    std::cout << (sub == "build" ? "built " : "updated ") << dir << " (" << report->version
              << "): " << report->indexed << " indexed, " << report->removed << " removed, "
              << report->hidden << " not public, " << report->skipped << " skipped; "
              << report->documents << " documents; " << report->seconds << " s, "
              << static_cast<long>(rate) << " docs/s\n";
    if (report->no_visibility > 0)
        std::cerr << "mixi-search: " << report->no_visibility
                  << (report->no_visibility == 1 ? " record has" : " records have")
                  << " no \"visibility\" and counted as private (not indexed, removed if "
                     "indexed before); if a missing visibility means public in this data, run "
                     "again with --default-visibility public\n";
    return report->skipped ? exit_partial : exit_ok;
}

int delete_command(const Args& args) {
    std::vector<std::string> ids;
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("index", po::value<std::string>(), "index directory (server.index)")(
        "data", po::value<std::string>(),
        "data directory: the documents' page-view counts are deleted too (when it has any; "
        "server.data_dir)");
    po::options_description all;
    all.add(opts).add_options()("id", po::value(&ids)->composing());
    po::positional_options_description positional;
    positional.add("id", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help"))
        return print_help("delete [--index DIR] [--data DIR] ID...", opts);
    if (ids.empty()) {
        std::cerr << "mixi-search: index delete needs at least one ID\n";
        return exit_usage;
    }
    // The index and data directory the server (and its admin API's delete) works on.
    auto config = load_config("index delete", config_options, vm,
                              {{"index", "server.index"}, {"data", "server.data_dir"}});
    if (!config)
        return exit_usage;
    const std::filesystem::path dir = config->index;
    auto report = operations::delete_document_everywhere(
        dir, ids, operations::stored_views(server::analytics_store(*config)));
    if (!report)
        return print_error(report.error());
    for (const auto& id : report->deleted)
        std::cout << "deleted " << id << "\n";
    for (const auto& id : report->not_found)
        std::cerr << "not found: " << id << "\n";
    return report->not_found.empty() ? exit_ok : exit_partial;
}

int stats_command(const Args& args) {
    std::string dir;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help")("index", po::value(&dir)->default_value("index"),
                                                   "index directory");
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(opts).run(), vm);
    po::notify(vm);
    if (vm.count("help"))
        return print_help("stats [--index DIR]", opts);
    auto stats = indexer::index_stats(dir);
    if (!stats)
        return print_error(stats.error());
    if (stats->shards > 0)
        std::cout << "shards:         " << stats->shards << "\n";
    std::cout << "database:       " << stats->database << "\n"
              << "documents:      " << stats->documents << "\n"
              << "revision:       " << stats->revision << "\n"
              << "average length: " << stats->average_length << " terms\n"
              << "size on disk:   " << stats->bytes_on_disk << " bytes\n";
    for (const auto& [type, n] : stats->by_type)
        std::cout << "type " << type << ": " << n << "\n";
    for (const auto& [lang, n] : stats->by_lang)
        std::cout << "lang " << lang << ": " << n << "\n";
    return exit_ok;
}

} // namespace

int run_index(const Args& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << "usage: mixi-search index build|update|delete|stats [options]\n";
        return args.empty() ? exit_usage : exit_ok;
    }
    const Args rest(args.begin() + 1, args.end());
    try {
        if (args[0] == "build" || args[0] == "update")
            return write_command(args[0], rest);
        if (args[0] == "delete")
            return delete_command(rest);
        if (args[0] == "stats")
            return stats_command(rest);
    } catch (const po::error& e) {
        std::cerr << "mixi-search index " << args[0] << ": " << e.what() << "\n";
        return exit_usage;
    }
    std::cerr << "mixi-search: unknown index command \"" << args[0]
              << "\" (build, update, delete, stats)\n";
    return exit_usage;
}

} // namespace mixi::cli
