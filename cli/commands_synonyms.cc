// `mixi-search synonyms import|list|delete`: the synonyms the content team manages, in the index
// (indexer/synonyms.h has the file format). The admin API's /v1/admin/synonyms does the same.
#include "cli/commands.h"
#include "cli/config_options.h"
#include "operations/synonyms.h"

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace mixi::cli {

namespace po = boost::program_options;

namespace {

int print_error(const Error& e) {
    std::cerr << "mixi-search: " << e.message << "\n";
    return exit_error;
}

} // namespace

int run_synonyms(const Args& args) {
    std::vector<std::string> positional;
    ConfigOptions config_options;
    po::options_description opts("options");
    opts.add_options()("help,h", "show this help");
    add_config_options(opts, config_options);
    opts.add_options()("index", po::value<std::string>(), "index directory (server.index)");
    po::options_description all;
    all.add(opts).add_options()("args", po::value(&positional)->composing());
    po::positional_options_description pos;
    pos.add("args", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mixi-search synonyms: " << e.what() << "\n";
        return exit_usage;
    }
    const std::string command = positional.empty() ? "" : positional[0];
    const bool valid = (command == "import" && positional.size() == 2) ||
                       (command == "list" && positional.size() == 1) ||
                       (command == "delete" && positional.size() == 2);
    if (vm.count("help") || !valid) {
        std::cout << "usage: mixi-search synonyms import FILE|- [--index DIR]   replace the set\n"
                     "       mixi-search synonyms list [--index DIR]            as a file\n"
                     "       mixi-search synonyms delete WORD [--index DIR]\n\n"
                     "A file has one group a line: \"写真, フォト, photo\" (each word matches the "
                     "others)\nor \"tv => television\" (one way); # starts a comment. Servers "
                     "apply a change\nat their next reopen; nothing is reindexed.\n\n"
                  << opts;
        return vm.count("help") ? exit_ok : exit_usage;
    }
    // The index the server searches (and its admin API writes).
    auto config = load_config("synonyms", config_options, vm, {{"index", "server.index"}});
    if (!config)
        return exit_usage;
    const std::filesystem::path index = config->index;
    if (command == "import") {
        const std::string& file = positional[1];
        std::string text;
        if (file == "-") {
            text.assign(std::istreambuf_iterator<char>(std::cin), {});
        } else {
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                std::cerr << "mixi-search: cannot read " << file << "\n";
                return exit_error;
            }
            text.assign(std::istreambuf_iterator<char>(in), {});
        }
        auto imported = operations::import_synonyms(index, text, file == "-" ? "stdin" : file);
        if (!imported)
            return print_error(imported.error());
        std::cout << "imported synonyms of " << imported->words << " words ("
                  << imported->expansions << " expansions) into " << index.string() << "\n";
        return exit_ok;
    }
    if (command == "list") {
        auto list = operations::list_synonyms(index);
        if (!list)
            return print_error(list.error());
        std::cout << operations::format_synonyms(*list);
        return exit_ok;
    }
    auto deleted = operations::delete_synonym(index, positional[1]);
    if (!deleted)
        return print_error(deleted.error());
    if (!*deleted) {
        std::cerr << "not found: " << positional[1] << "\n";
        return exit_partial;
    }
    std::cout << "deleted " << positional[1] << "\n";
    return exit_ok;
}

} // namespace mixi::cli
