#include "readiness.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "clock.h"
#include "log.h"

namespace portwrap {
namespace {

constexpr int64_t kFirstPauseMs = 20;
constexpr int64_t kLongestPauseMs = 500;

}  // namespace

ReadinessProbe::ReadinessProbe(UniqueFd ready_fd, std::vector<std::string> lines, std::vector<Target> targets,
                               Connector& connector)
    : ready_fd_(std::move(ready_fd)), lines_(std::move(lines)), connector_(connector)
{
    for (const Target& target : targets)
        pending_.push_back({target, UniqueFd(), 0, kFirstPauseMs, SIZE_MAX});
    report_if_all_ready();
}

void ReadinessProbe::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    if (!ready_fd_)
        return;
    const int64_t now = monotonic_ms();
    for (Pending& pending : pending_) {
        pending.index = SIZE_MAX;
        if (!pending.socket && now >= pending.next_try_ms)
            try_connect(pending, now);
        if (pending.socket) {
            pending.index = fds.size();
            fds.push_back({pending.socket.get(), POLLOUT, 0});
        } else {
            timeout_ms = std::min<uint32_t>(timeout_ms, static_cast<uint32_t>(std::max<int64_t>(pending.next_try_ms - now, 0)));
        }
    }
}

size_t ReadinessProbe::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    if (!ready_fd_ || poll_failed)
        return 0;
    const int64_t now = monotonic_ms();
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->index >= fds.size() || fds[it->index].revents == 0) {
            ++it;
            continue;
        }
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(it->socket.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
            error = errno;
        if (error == 0) {
            log::info("port %u answers inside the namespace", it->target.port);
            it = pending_.erase(it);  // closes the probe connection
            continue;
        }
        it->socket.reset();  // refused (no server yet) or failed: try again later
        it->next_try_ms = now + it->pause_ms;
        it->pause_ms = std::min(it->pause_ms * 2, kLongestPauseMs);
        ++it;
    }
    report_if_all_ready();
    return 0;
}

void ReadinessProbe::try_connect(Pending& pending, int64_t now)
{
    pending.socket = connector_.open(pending.target.port, false, pending.target.where);
    if (!pending.socket) {
        pending.next_try_ms = now + pending.pause_ms;
        pending.pause_ms = std::min(pending.pause_ms * 2, kLongestPauseMs);
    }
}

void ReadinessProbe::report_if_all_ready()
{
    if (!ready_fd_ || !pending_.empty())
        return;
    std::string text;
    for (const std::string& line : lines_)
        text += line + "\n";
    // A reader that went away (EPIPE, SIGPIPE is ignored) or a full pipe only loses
    // the report; the forwards go on.
    if (::write(ready_fd_.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        log::info("could not write the readiness report to --ready-fd: %s", std::strerror(errno));
    ready_fd_.reset();
    log::info("ready: every forward reaches a server inside");
}

}  // namespace portwrap
