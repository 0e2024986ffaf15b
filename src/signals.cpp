#include "signals.h"

#include "error.h"

namespace portwrap::signals {

namespace {
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
}

sigset_t handled_set() noexcept
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (int signo : kForwarded)
        sigaddset(&set, signo);
    return set;
}

bool is_forwarded(int signo) noexcept
{
    for (int forwarded : kForwarded)
        if (signo == forwarded)
            return true;
    return false;
}

bool came_from_terminal(const signalfd_siginfo& info) noexcept
{
    return info.ssi_code == SI_KERNEL;
}

sigset_t block_handled()
{
    sigset_t set = handled_set();
    sigset_t previous;
    if (sigprocmask(SIG_BLOCK, &set, &previous) != 0)
        throw_errno("cannot block signals");
    return previous;
}

UniqueFd open_signalfd()
{
    sigset_t set = handled_set();
    UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd)
        throw_errno("cannot create signalfd");
    return fd;
}

}  // namespace portwrap::signals
