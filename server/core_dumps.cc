#include "server/core_dumps.h"

#include <cerrno>
#include <cstring>
#include <sys/prctl.h>
#include <sys/resource.h>

namespace mixi::server {

Expected<std::string> forbid_core_dumps() {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return fail(ErrorCode::io_error,
                    std::string("cannot make the process non-dumpable: ") + std::strerror(errno));
    struct rlimit limit {};
    if (::getrlimit(RLIMIT_CORE, &limit) == 0 && limit.rlim_cur == 0 && limit.rlim_max == 0)
        return std::string();
    const struct rlimit none { 0, 0 };
    if (::setrlimit(RLIMIT_CORE, &none) != 0)
        return std::string("cannot set the core file size limit to 0 (") + std::strerror(errno) +
               "); the process is non-dumpable, which alone keeps core files from being written";
    return std::string();
}

} // namespace mixi::server
