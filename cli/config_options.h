// The configuration options of `serve` and of every subcommand that shares a setting with it, and
// the one way they are loaded (config/README.md): defaults < --config FILE < MIXI_* environment <
// the subcommand's own flags < --set.
#pragma once

#include "config/config.h"

#include <boost/program_options.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace mixi::cli {

/// Where `--config` and `--set` are stored while the command line is parsed.
struct ConfigOptions {
    std::string file;
    std::vector<std::string> sets;
};

/// Adds `--config FILE` and `--set section.key=value` to `opts`.
void add_config_options(boost::program_options::options_description& opts, ConfigOptions& config);

/// A subcommand's flag that sets a configuration key (--data sets server.data_dir). The flag is
/// declared as a string, a repeatable string (joined with commas) or a bool_switch.
struct FlagKey {
    const char* flag;
    const char* key;
};

/// The configuration for `command`: the file, the process's MIXI_* environment, then each flag
/// of `flags` given on the command line, then `--set`. On a bad setting prints an error naming
/// the key ("mixi-search <command>: ...") and returns nothing; the caller exits with exit_usage.
/// The configuration's warnings are printed to stderr ("mixi-search <command>: warning: ...").
std::optional<config::Config> load_config(const std::string& command, const ConfigOptions& options,
                                          const boost::program_options::variables_map& vm,
                                          std::initializer_list<FlagKey> flags);

} // namespace mixi::cli
