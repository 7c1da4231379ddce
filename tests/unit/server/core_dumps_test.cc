#include "server/core_dumps.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mixi::server {
namespace {

TEST(CoreDumps, AfterForbidCoreDumpsTheProcessIsNotDumpableAndHasNoCoreLimit) {
    // In a child, so that this test program stays as it was.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const auto r = forbid_core_dumps();
        struct rlimit limit {};
        const bool ok = r && r->empty() && ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 &&
                        ::getrlimit(RLIMIT_CORE, &limit) == 0 && limit.rlim_cur == 0 &&
                        limit.rlim_max == 0;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

} // namespace
} // namespace mixi::server
