// The configuration (config/config.h) on arbitrary bytes: the input up to a line "---" is the
// TOML file; each line after it is `MIXI_NAME=value` (the environment) or `section.key=value`
// (a --set). Nothing crashes or throws; a load either fails with a message, or gives a
// configuration that validate() accepts, whose printed form does not depend on the secrets,
// and that loads back from its printed form (secrets aside) to the same configuration.
#include "config/config.h"
#include "fuzz_util.h"

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace mixi;
namespace fs = std::filesystem;

namespace {

const fs::path& scratch_file() {
    static const fs::path path =
        fs::temp_directory_path() / ("mixi-config-fuzz-" + std::to_string(::getpid()) + ".toml");
    return path;
}

void write_file(const std::string& text) {
    std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
    out << text;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = fuzz::as_text(data, size);
    std::string_view file = input, rest;
    if (const auto sep = input.find("\n---\n"); sep != std::string_view::npos) {
        file = input.substr(0, sep);
        rest = input.substr(sep + 5);
    }
    config::Sources sources;
    sources.file = scratch_file();
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            continue;
        std::string name(line.substr(0, eq)), value(line.substr(eq + 1));
        if (name.starts_with("MIXI_"))
            sources.env[name] = value;
        else
            sources.overrides.emplace_back(name, value);
    }
    write_file(std::string(file));

    const auto loaded = config::load(sources);
    if (!loaded) {
        fuzz::check(!loaded.error().message.empty(), "an error without a message");
        return 0;
    }
    fuzz::check(config::validate(*loaded).has_value(), "a loaded configuration is not valid");
    const std::string printed = config::to_toml(*loaded);

    // The printed form does not depend on the secrets' values.
    config::Config other = *loaded;
    if (!other.auth.account_secret.empty())
        other.auth.account_secret = "another secret of the same kind";
    for (auto& key : other.auth.admin_keys)
        key = "another admin key of the same kind";
    fuzz::check(config::to_toml(other) == printed, "--print-config shows a secret");

    // Without its secrets (which print as "(hidden)"), the printed form loads back as it was.
    config::Config plain = *loaded;
    plain.auth = {};
    const std::string plain_printed = config::to_toml(plain);
    write_file(plain_printed);
    config::Sources again;
    again.file = scratch_file();
    const auto reloaded = config::load(again);
    fuzz::check(reloaded.has_value(), "the printed configuration does not load back");
    fuzz::check(config::to_toml(*reloaded) == plain_printed,
                "the printed configuration loads back different");
    return 0;
}
