#include "exit_status.h"

#include <sys/wait.h>

#include "error.h"

namespace portwrap {

int exit_status_from_wait(int wait_status) noexcept
{
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status))
        return 128 + WTERMSIG(wait_status);
    return kExitSetupFailure;  // stopped/continued are never passed here
}

}  // namespace portwrap
