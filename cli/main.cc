// mixi-search: one binary, subcommands over the libraries. Configuration is read here (flags)
// and handed to the libraries as plain structs.
#include "cli/commands.h"

#include <cstring>
#include <exception>
#include <iostream>
#include <xapian.h>

namespace {

constexpr const char* usage = R"(mixi-search: privacy-respecting site search

usage: mixi-search <command> [options]

commands:
  index build   --index DIR SOURCE...   full rebuild into a new version, then switch `current`
  index update  --index DIR SOURCE...   upsert / remove records in place
                (both: --default-visibility public if records without "visibility" are public)
  index delete  [--index DIR] ID...     remove documents by id
  index stats   --index DIR             what the index holds
  synonyms import FILE|- [--index DIR]  replace the synonyms that queries expand with
  synonyms list [--index DIR]           the synonyms, as a file
  synonyms delete WORD [--index DIR]    take a word out of them
  query         [--index DIR] [options] QUERY...
  serve         [--config FILE] [--port N] [--index DIR]   the HTTP search server
  views import  [--data DIR] [--index DIR] FILE.csv...   load page-view counts
  views stats   [--data DIR]            what the view counts hold
  purge         [--data DIR] [--index DIR]   delete what is past its retention
  account export|delete ID [--data DIR] an account's search history: as JSON, or deleted
  report popular|zero-results|trending|volume [--from D] [--to D] [--format table|csv|json]
  eval          --beir DIR              nDCG@10, Recall@100, MRR@10 on a BEIR collection

SOURCE is an NDJSON file or a folder of HTML pages. `mixi-search <command> --help` for options.
serve, query, views, purge, account, report, synonyms and index delete read the same
configuration: --config FILE, then MIXI_* variables (MIXI_SERVER_DATA_DIR=var), then their
flags, then --set.
exit status: 0 ok, 1 error, 2 usage, 3 done but some input skipped or not found
)";

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::cout << usage;
        return argc < 2 ? mixi::cli::exit_usage : mixi::cli::exit_ok;
    }
    const std::string command = argv[1];
    const mixi::cli::Args args(argv + 2, argv + argc);
    try {
        if (command == "index")
            return mixi::cli::run_index(args);
        if (command == "query")
            return mixi::cli::run_query(args);
        if (command == "serve")
            return mixi::cli::run_serve(args);
        if (command == "report")
            return mixi::cli::run_report(args);
        if (command == "account")
            return mixi::cli::run_account(args);
        if (command == "purge")
            return mixi::cli::run_purge(args);
        if (command == "views")
            return mixi::cli::run_views(args);
        if (command == "synonyms")
            return mixi::cli::run_synonyms(args);
        if (command == "eval")
            return mixi::cli::run_eval(args);
        std::cerr << "mixi-search: unknown command \"" << command << "\"\n\n" << usage;
        return mixi::cli::exit_usage;
    } catch (const Xapian::Error& e) {
        std::cerr << "mixi-search: " << e.get_description() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "mixi-search: " << e.what() << "\n";
    }
    return mixi::cli::exit_error;
}
