#include "namespace_processes.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "clock.h"
#include "file_text.h"
#include "log.h"

namespace portwrap::namespace_processes {
namespace {

// Processes that are not portwrap's children end without telling it (no SIGCHLD):
// while any such may be left, look again this often.
constexpr int kPollIntervalMs = 20;
constexpr int kKillWaitMs = 2000;  // after SIGKILL, how long to watch them go

void reap_orphans()
{
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// Waits up to timeout_ms for a signal on signal_fd (SIGCHLD: a child ended), and
// empties it. Other signals read here are dropped: portwrap is on its way out.
void wait_for_signal(int signal_fd, int timeout_ms)
{
    pollfd fd{signal_fd, POLLIN, 0};
    if (::poll(&fd, 1, std::max(timeout_ms, 0)) <= 0)
        return;
    signalfd_siginfo info;
    while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
}

// The pids in the text of a /proc/self/task/TID/children file (space-separated).
void parse_children(const std::string& text, std::vector<pid_t>& children)
{
    const char* at = text.c_str();
    for (;;) {
        char* end = nullptr;
        const long pid = std::strtol(at, &end, 10);
        if (end == at)
            return;
        if (pid > 0)
            children.push_back(static_cast<pid_t>(pid));
        at = end;
    }
}

// portwrap's live children, from /proc/self/task/*/children; nullopt where the kernel
// does not offer that file (built without CONFIG_PROC_CHILDREN).
std::optional<std::vector<pid_t>> own_children()
{
    DIR* tasks = ::opendir("/proc/self/task");
    if (!tasks)
        return std::nullopt;
    std::vector<pid_t> children;
    bool readable = true;
    while (const dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.')
            continue;
        const std::string path = std::string("/proc/self/task/") + entry->d_name + "/children";
        const auto text = file_text::read(path, file_text::kNoLimit);
        if (!text) {
            readable = false;
            break;
        }
        parse_children(*text, children);
    }
    ::closedir(tasks);
    if (!readable)
        return std::nullopt;
    return children;
}

// False only when it is certain that no process is left in ns, without reading all
// of /proc. Everything the command starts descends from it, and portwrap is their
// subreaper: once the command has ended, each live descendant is a child of portwrap
// or below one, in a network namespace other than portwrap's own. So if no child of
// portwrap (the janitor lives in portwrap's namespace) is elsewhere, none is left.
bool processes_may_remain()
{
    if (std::getenv("PORTWRAP_TEST_FULL_SWEEP"))
        return true;  // tests: take the path of kernels without the children file
    const auto children = own_children();
    if (!children)
        return true;
    const auto own = network_namespace_of(::getpid());
    if (!own)
        return true;
    return std::any_of(children->begin(), children->end(), [&](pid_t pid) {
        const auto ns = network_namespace_of(pid);
        return !ns || *ns != *own;  // a child gone meanwhile counts as maybe elsewhere
    });
}

// Waits until no process is left in ns or timeout_ms passed; returns what is left.
// Woken by SIGCHLD (the leftovers are mostly portwrap's children once the command
// has ended); processes that are not its children are looked for again every
// kPollIntervalMs.
std::vector<pid_t> wait_until_empty(const NamespaceId& ns, int timeout_ms, int signal_fd)
{
    const int64_t deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        reap_orphans();
        std::vector<pid_t> left = processes_may_remain() ? list(ns) : std::vector<pid_t>{};
        const int64_t remaining = deadline - monotonic_ms();
        if (left.empty() || remaining <= 0)
            return left;
        wait_for_signal(signal_fd, static_cast<int>(std::min<int64_t>(remaining, kPollIntervalMs)));
    }
}

}  // namespace

std::optional<NamespaceId> network_namespace_of(pid_t pid)
{
    struct stat info{};
    if (::stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &info) != 0)
        return std::nullopt;
    return NamespaceId{info.st_dev, info.st_ino};
}

std::vector<pid_t> list(const NamespaceId& ns)
{
    std::vector<pid_t> pids;
    DIR* proc = ::opendir("/proc");
    if (!proc)
        return pids;
    const pid_t self = ::getpid();
    while (const dirent* entry = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0' || pid == self)
            continue;
        // Zombies have no namespace links any more, so only live processes match.
        if (network_namespace_of(static_cast<pid_t>(pid)) == ns)
            pids.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(proc);
    return pids;
}

size_t end_all(const NamespaceId& ns, int grace_ms, int signal_fd)
{
    reap_orphans();
    if (!processes_may_remain())
        return 0;  // the usual case: no need to read all of /proc
    std::vector<pid_t> found = list(ns);
    if (found.empty())
        return 0;
    log::info("the command left %zu process(es) in the namespace: sending SIGTERM", found.size());
    for (pid_t pid : found)
        ::kill(pid, SIGTERM);
    std::vector<pid_t> left = wait_until_empty(ns, grace_ms, signal_fd);
    if (!left.empty()) {
        log::info("%zu process(es) still running after %d ms: sending SIGKILL", left.size(), grace_ms);
        for (pid_t pid : left)
            ::kill(pid, SIGKILL);
        left = wait_until_empty(ns, kKillWaitMs, signal_fd);
        if (!left.empty())
            log::error("%zu process(es) in the namespace survived SIGKILL (first: pid %d)", left.size(), left.front());
    }
    reap_orphans();
    return found.size();
}

bool reap(pid_t pid, int timeout_ms, int signal_fd)
{
    const int64_t deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        pid_t got = ::waitpid(pid, nullptr, WNOHANG);
        if (got == pid || (got < 0 && errno == ECHILD))
            return true;  // reaped now, or already reaped by the event loop
        const int64_t remaining = deadline - monotonic_ms();
        if (remaining <= 0)
            return false;
        // pid is a child: its end raises SIGCHLD.
        wait_for_signal(signal_fd, static_cast<int>(remaining));
    }
}

}  // namespace portwrap::namespace_processes
