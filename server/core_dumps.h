// A crash of the server must not leave its memory on disk: searches in the analytics buffer,
// client addresses, the admin keys and the account secret would all be in a core file.
#pragma once

#include "common/error.h"

#include <string>

namespace mixi::server {

/// Makes this process non-dumpable (prctl PR_SET_DUMPABLE 0: no core file, and no other
/// process of the same user may ptrace it or read its memory through /proc) and sets its core
/// file size limit to 0, soft and hard. An error when the process cannot be made non-dumpable;
/// a warning (the returned text, empty when none) when only the limit cannot be lowered, as
/// under a seccomp filter that forbids setrlimit (the packaged unit sets LimitCORE=0 itself).
Expected<std::string> forbid_core_dumps();

} // namespace mixi::server
