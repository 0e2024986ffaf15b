#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catch.h"
#include "exit_status.h"

using portwrap::exit_status_from_wait;

namespace {
// A real wait status, from a real child.
int wait_status_of(void (*body)())
{
    pid_t pid = fork();
    if (pid == 0) {
        body();
        _exit(99);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return status;
}
}  // namespace

TEST_CASE("an exit code passes through", "[exit-status]")
{
    CHECK(exit_status_from_wait(wait_status_of([] { _exit(0); })) == 0);
    CHECK(exit_status_from_wait(wait_status_of([] { _exit(3); })) == 3);
    CHECK(exit_status_from_wait(wait_status_of([] { _exit(255); })) == 255);
}

TEST_CASE("death by signal N is 128+N", "[exit-status]")
{
    CHECK(exit_status_from_wait(wait_status_of([] { raise(SIGKILL); })) == 128 + SIGKILL);
    CHECK(exit_status_from_wait(wait_status_of([] {
              signal(SIGTERM, SIG_DFL);
              raise(SIGTERM);
          })) == 128 + SIGTERM);
}
