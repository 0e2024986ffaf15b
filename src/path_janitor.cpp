#include "path_janitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "error.h"
#include "fd_closing.h"
#include "fd_pair.h"
#include "sandbox_policies.h"
#include "seccomp_filter.h"

namespace portwrap {

namespace {

void remove_if_same(const std::string& path, dev_t device, ino_t inode) noexcept
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == device && st.st_ino == inode)
        ::unlink(path.c_str());
}

}  // namespace

PathJanitor::~PathJanitor()
{
    if (started_) {
        finish();
        return;
    }
    // Never started (set-up failed on the way): portwrap can still remove them itself.
    for (const Entry& entry : entries_)
        remove_if_same(entry.path, entry.device, entry.inode);
}

void PathJanitor::add(const std::string& path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        throw_errno("cannot stat " + path);
    entries_.push_back({path, st.st_dev, st.st_ino});
}

void PathJanitor::start()
{
    if (entries_.empty() || started_)
        return;
    auto [read_end, write_end] = make_pipe(O_CLOEXEC);
    if (!read_end)
        throw_errno("cannot create a pipe for the clean-up process");
    const pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("cannot start the clean-up process");
    if (pid == 0) {
        // First: no other process of the user (the command among them) may ptrace us.
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        write_end.reset();
        serve(read_end.release(), entries_);
    }
    pid_ = pid;
    started_ = true;
    wake_ = std::move(write_end);
}

void PathJanitor::serve(int wake_fd, const std::vector<Entry>& entries) noexcept
{
    // Hold nothing else of portwrap's: no listening socket may stay open through us.
    fd_closing::close_fds_except(0, {wake_fd});
    // Signals meant for portwrap (Ctrl-C to its process group, a `pkill portwrap`,
    // which matches this copy too) must not end us before portwrap: we end with it.
    for (int signo : {SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGUSR1, SIGUSR2})
        ::signal(signo, SIG_IGN);
    ::prctl(PR_SET_NAME, "portwrap-clean");
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // From here on it only waits, checks and unlinks. Without the filter it still does
    // its job: a removed socket matters more than a refused filter.
    (void)seccomp_filter::load(sandbox_policies::janitor());
    // A byte: portwrap is stopping, remove them now. End-of-file: portwrap is done or
    // dead, remove them (if still there) and go.
    for (;;) {
        char byte;
        const ssize_t got = ::read(wake_fd, &byte, 1);
        if (got < 0 && errno == EINTR)
            continue;
        for (const Entry& entry : entries)
            remove_if_same(entry.path, entry.device, entry.inode);
        if (got <= 0)
            ::_exit(0);
    }
}

void PathJanitor::remove_now() noexcept
{
    if (wake_ && !removal_requested_) {
        const char byte = 'r';
        removal_requested_ = ::write(wake_.get(), &byte, 1) == 1;
    }
}

void PathJanitor::finish() noexcept
{
    if (pid_ <= 0)
        return;
    wake_.reset();
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;  // reaped here, or already by the event loop (ECHILD): either way done
}

}  // namespace portwrap
