#include "common/index_layout.h"

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

fs::path resolve_database(const fs::path& dir) {
    std::error_code ec;
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

} // namespace mixi::layout
