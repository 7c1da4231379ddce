#include "common/index_layout.h"

#include <cstdint>
#include <fstream>
#include <system_error>

namespace mixi::layout {

namespace fs = std::filesystem;

fs::path current_link(const fs::path& dir) {
    return dir / "current";
}
fs::path versions_dir(const fs::path& dir) {
    return dir / "versions";
}
fs::path lock_file(const fs::path& dir) {
    return dir / "write.lock";
}

fs::path replica_stub(const fs::path& dir) {
    return dir / "XAPIANDB";
}

bool is_replica(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(replica_stub(dir), ec);
}

namespace {

/// The database a stub file names: its first line "auto <path>" (Xapian's stub format; lines
/// starting with # are comments), relative to the stub's directory. Empty when there is none.
fs::path stub_target(const fs::path& dir) {
    std::ifstream in(replica_stub(dir));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        if (!line.starts_with("auto "))
            return {};
        const fs::path target = line.substr(5);
        return target.is_absolute() ? target : dir / target;
    }
    return {};
}

} // namespace

fs::path resolve_database(const fs::path& dir) {
    std::error_code ec;
    if (is_replica(dir))
        return stub_target(dir);
    const fs::path link = current_link(dir);
    if (fs::is_symlink(link, ec)) {
        fs::path target = fs::read_symlink(link, ec);
        if (ec)
            return {};
        return target.is_absolute() ? target : dir / target;
    }
    // A plain Xapian database (for example one built by omindex) is opened as it is.
    if (fs::exists(dir / "iamglass", ec) || fs::exists(dir / "iamchert", ec))
        return dir;
    return {};
}

fs::path shards_file(const fs::path& dir) {
    return dir / "shards";
}
fs::path shard_dir(const fs::path& dir, unsigned shard) {
    return dir / ("shard-" + std::to_string(shard));
}

unsigned shard_count(const fs::path& dir) {
    std::ifstream in(shards_file(dir));
    unsigned n = 0;
    if (!(in >> n) || n > 4096)
        return 0;
    return n;
}

unsigned shard_of(std::string_view id, unsigned n) {
    std::uint64_t h = 14695981039346656037ull;
    for (const char c : id) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return n == 0 ? 0 : static_cast<unsigned>(h % n);
}

} // namespace mixi::layout
