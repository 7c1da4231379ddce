// The subcommands of `mixi-search`. Each takes its arguments after the subcommand name and
// returns the process exit status (see exit codes in main.cc).
#pragma once

#include <string>
#include <vector>

namespace mixi::cli {

using Args = std::vector<std::string>;

/// Exit statuses shared by every subcommand.
enum Exit : int {
    exit_ok = 0,
    exit_error = 1,   ///< nothing was done
    exit_usage = 2,   ///< bad command line
    exit_partial = 3, ///< done, but some input was skipped or not found
};

int run_index(const Args& args);
int run_query(const Args& args);
int run_eval(const Args& args);
int run_serve(const Args& args);
int run_views(const Args& args);
int run_purge(const Args& args);
int run_account(const Args& args);
int run_report(const Args& args);
int run_synonyms(const Args& args);

} // namespace mixi::cli
