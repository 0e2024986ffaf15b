#include "pid_namespace.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "clock.h"
#include "error.h"
#include "exit_status.h"
#include "fd_closing.h"
#include "sandbox_policies.h"
#include "seccomp_filter.h"
#include "signals.h"

namespace portwrap::pid_namespace {
namespace {

// Reaps every child that has ended. Returns false once the init has no child left,
// which means that the namespace holds no other process.
bool reap(pid_t command, int& command_status, bool& command_ended) noexcept
{
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid == 0)
            return true;
        if (pid < 0)
            return errno != ECHILD;
        if (pid == command) {
            command_status = status;
            command_ended = true;
        }
    }
}

}  // namespace

void mount_proc()
{
    if (::unshare(CLONE_NEWNS) != 0)
        throw_errno("cannot create a mount namespace for the PID namespace's /proc");
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        throw_errno("cannot mount /proc for the new PID namespace");
}

sigset_t take_pending_signals() noexcept
{
    sigset_t forwarded = signals::handled_set();
    sigdelset(&forwarded, SIGCHLD);
    sigset_t taken;
    sigemptyset(&taken);
    const timespec now{0, 0};
    for (int signo; (signo = ::sigtimedwait(&forwarded, nullptr, &now)) > 0;)
        sigaddset(&taken, signo);
    return taken;
}

void raise_in_command(const sigset_t& taken) noexcept
{
    for (int signo = 1; signo < NSIG; ++signo)
        if (sigismember(&taken, signo) == 1)
            ::kill(::getpid(), signo);
}

void run_init(pid_t command, const StopPolicy& policy) noexcept
{
    // The init execs nothing, so portwrap's close-on-exec fds would stay open in it for
    // the command's whole life: the handshake socket above all, whose end-of-file tells
    // portwrap that the command's exec succeeded.
    fd_closing::close_fds_except(3, {});
    ::prctl(PR_SET_NAME, "portwrap-init");
    // It only waits, reaps and signals from now on. A refused filter is not worth
    // killing the command for: the init still does its job.
    (void)seccomp_filter::load(sandbox_policies::pid_ns_init());
    const sigset_t handled = signals::handled_set();
    int command_status = 0;
    bool command_ended = false;

    while (!command_ended) {
        siginfo_t info{};
        const int signo = ::sigwaitinfo(&handled, &info);
        if (signo == SIGCHLD)
            reap(command, command_status, command_ended);
        else if (signo > 0 && policy.forward_signals && signals::is_forwarded(signo) && info.si_code != SI_KERNEL)
            ::kill(command, signo);  // from portwrap, another process, or kill -X 1 inside
    }

    // The command has ended: what it left behind gets SIGTERM and a grace period, as
    // without a PID namespace. When the init exits, the kernel SIGKILLs the rest.
    bool others_left = reap(command, command_status, command_ended);
    if (others_left && ::kill(-1, SIGTERM) == 0) {
        sigset_t child_signal;
        sigemptyset(&child_signal);
        sigaddset(&child_signal, SIGCHLD);
        const int64_t deadline = monotonic_ms() + policy.leftover_grace_ms;
        while (others_left && monotonic_ms() < deadline) {
            const int64_t left_ms = deadline - monotonic_ms();
            timespec timeout{static_cast<time_t>(left_ms / 1000), static_cast<long>(left_ms % 1000) * 1'000'000L};
            ::sigtimedwait(&child_signal, nullptr, &timeout);
            others_left = reap(command, command_status, command_ended);
        }
    }
    _exit(exit_status_from_wait(command_status));
}

}  // namespace portwrap::pid_namespace
