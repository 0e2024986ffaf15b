#include "child_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <utility>

#include "error.h"

namespace portwrap {

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess::~ChildProcess()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

bool ChildProcess::signal(int signo) noexcept
{
    return pid_ > 0 && ::kill(pid_, signo) == 0;
}

std::optional<int> ChildProcess::try_wait()
{
    if (pid_ <= 0)
        throw Error("internal error: waiting for a child that was already reaped");
    int status = 0;
    pid_t got;
    do {
        got = ::waitpid(pid_, &status, WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        throw_errno("waitpid(" + std::to_string(pid_) + ")");
    if (got == 0)
        return std::nullopt;
    pid_ = -1;
    return status;
}

int ChildProcess::wait()
{
    if (pid_ <= 0)
        throw Error("internal error: waiting for a child that was already reaped");
    int status = 0;
    pid_t got;
    do {
        got = ::waitpid(pid_, &status, 0);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        throw_errno("waitpid(" + std::to_string(pid_) + ")");
    pid_ = -1;
    return status;
}

}  // namespace portwrap
