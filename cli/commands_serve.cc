// `mixi-search serve`: configuration (cli/config_options.h) and the HTTP server.
#include "cli/commands.h"
#include "cli/config_options.h"
#include "server/core_dumps.h"
#include "server/http_server.h"

#include <boost/program_options.hpp>
#include <iostream>

namespace mixi::cli {

namespace po = boost::program_options;

int run_serve(const Args& args) {
    // Before the configuration (and its secrets) is read, and before any search: a crash must
    // not write them to a core file.
    auto no_core = server::forbid_core_dumps();
    if (!no_core) {
        std::cerr << "mixi-search serve: " << no_core.error().message << "\n";
        return exit_error;
    }
    if (!no_core->empty())
        std::cerr << "mixi-search serve: warning: " << *no_core << "\n";
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("address", po::value<std::string>(),
                       "address to listen on (server.address)")(
        "port", po::value<std::string>(), "port; 0 picks a free one (server.port)")(
        "index", po::value<std::string>(), "index directory (server.index)")(
        "web-root", po::value<std::string>(), "static files for / (server.web_root)")(
        "data", po::value<std::string>(), "data directory for view counts (server.data_dir)")(
        "threads", po::value<std::string>(), "I/O threads; 0 = one per core (server.threads)")(
        "print-config", "print the effective configuration as TOML and exit");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search serve: " << e.what() << "\n";
        return exit_usage;
    }
    if (vm.count("help")) {
        std::cout << "usage: mixi-search serve [--config FILE] [options]\n\n"
                  << opts
                  << "\nEvery setting can also come from the environment: MIXI_SERVER_PORT=8081 "
                     "sets server.port.\n";
        return exit_ok;
    }
    auto config = load_config("serve", config_options, vm,
                              {{"address", "server.address"},
                               {"port", "server.port"},
                               {"index", "server.index"},
                               {"web-root", "server.web_root"},
                               {"data", "server.data_dir"},
                               {"threads", "server.threads"}});
    if (!config)
        return exit_usage;
    if (vm.count("print-config")) {
        std::cout << config::to_toml(*config);
        return exit_ok;
    }
    server::HttpServer http(*config);
    auto ran = http.run([](const std::string& url) {
        // The first line of stdout: scripts and tests read the bound port from it.
        std::cout << url << std::endl;
    });
    if (!ran) {
        std::cerr << "mixi-search serve: " << ran.error().message << "\n";
        return exit_error;
    }
    return exit_ok;
}

} // namespace mixi::cli
