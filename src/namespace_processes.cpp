#include "namespace_processes.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "log.h"

namespace portwrap::namespace_processes {
namespace {

constexpr int kPollIntervalMs = 20;
constexpr int kKillWaitMs = 2000;  // after SIGKILL, how long to watch them go

void reap_orphans()
{
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

void sleep_ms(int ms)
{
    timespec pause{0, ms * 1'000'000L};
    nanosleep(&pause, nullptr);
}

// Polls until no process is left in ns or timeout_ms passed; returns what is left.
std::vector<pid_t> wait_until_empty(const NamespaceId& ns, int timeout_ms)
{
    std::vector<pid_t> left = list(ns);
    for (int waited = 0; !left.empty() && waited < timeout_ms; waited += kPollIntervalMs) {
        sleep_ms(kPollIntervalMs);
        reap_orphans();
        left = list(ns);
    }
    return left;
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

size_t end_all(const NamespaceId& ns, int grace_ms)
{
    reap_orphans();
    std::vector<pid_t> found = list(ns);
    if (found.empty())
        return 0;
    log::info("the command left %zu process(es) in the namespace: sending SIGTERM", found.size());
    for (pid_t pid : found)
        ::kill(pid, SIGTERM);
    std::vector<pid_t> left = wait_until_empty(ns, grace_ms);
    if (!left.empty()) {
        log::info("%zu process(es) still running after %d ms: sending SIGKILL", left.size(), grace_ms);
        for (pid_t pid : left)
            ::kill(pid, SIGKILL);
        left = wait_until_empty(ns, kKillWaitMs);
        if (!left.empty())
            log::error("%zu process(es) in the namespace survived SIGKILL (first: pid %d)", left.size(), left.front());
    }
    reap_orphans();
    return found.size();
}

bool reap(pid_t pid, int timeout_ms)
{
    for (int waited = 0;; waited += kPollIntervalMs) {
        pid_t got = ::waitpid(pid, nullptr, WNOHANG);
        if (got == pid || (got < 0 && errno == ECHILD))
            return true;  // reaped now, or already reaped by the event loop
        if (waited >= timeout_ms)
            return false;
        sleep_ms(kPollIntervalMs);
    }
}

}  // namespace portwrap::namespace_processes
