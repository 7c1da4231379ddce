#include "cli/config_options.h"

#include <iostream>

extern char** environ;

namespace mixi::cli {

namespace po = boost::program_options;

namespace {

/// A flag's value as the text a configuration key takes.
std::string flag_text(const po::variable_value& value) {
    if (const auto* text = boost::any_cast<std::string>(&value.value()))
        return *text;
    if (const auto* flag = boost::any_cast<bool>(&value.value()))
        return *flag ? "true" : "false";
    std::string joined;
    for (const auto& item : value.as<std::vector<std::string>>())
        joined += (joined.empty() ? "" : ",") + item;
    return joined;
}

} // namespace

void add_config_options(po::options_description& opts, ConfigOptions& config) {
    opts.add_options()("config", po::value(&config.file),
                       "TOML configuration file (the one serve reads)")(
        "set", po::value(&config.sets)->composing(),
        "any setting, as section.key=value (repeatable)");
}

std::optional<config::Config> load_config(const std::string& command, const ConfigOptions& options,
                                          const po::variables_map& vm,
                                          std::initializer_list<FlagKey> flags) {
    config::Sources sources;
    sources.file = options.file;
    for (char** e = environ; *e; ++e) {
        const std::string entry = *e;
        const auto eq = entry.find('=');
        if (eq != std::string::npos && entry.starts_with("MIXI_"))
            sources.env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [flag, key] : flags)
        if (vm.count(flag) && !vm[flag].defaulted())
            sources.overrides.emplace_back(key, flag_text(vm[flag]));
    for (const auto& s : options.sets) {
        const auto eq = s.find('=');
        if (eq == std::string::npos) {
            std::cerr << "mixi-search " << command << ": --set needs section.key=value, got \"" << s
                      << "\"\n";
            return std::nullopt;
        }
        sources.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    auto config = config::load(sources);
    if (!config) {
        std::cerr << "mixi-search " << command << ": " << config.error().message << "\n";
        return std::nullopt;
    }
    for (const auto& warning : config->warnings)
        std::cerr << "mixi-search " << command << ": warning: " << warning << "\n";
    return std::move(*config);
}

} // namespace mixi::cli
