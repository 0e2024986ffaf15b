#include "event_loop.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "error.h"
#include "log.h"
#include "signals.h"

namespace portwrap::event_loop {
namespace {

// After the command exits, keep relaying what libslirp still holds for host clients
// (a server's last response) until nothing moves, but never longer than this.
constexpr int64_t kDrainLimitMs = 2000;
constexpr uint32_t kDrainIdleMs = 50;

int64_t now_ms()
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1'000'000;
}

// Reads every pending signal. Until the child has ended, forwards the ones that should
// be forwarded and reaps it on SIGCHLD, setting wait_status.
void handle_signals(int signal_fd, ChildProcess& child, std::optional<int>& wait_status)
{
    signalfd_siginfo info;
    while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (wait_status)
            continue;
        const int signo = static_cast<int>(info.ssi_signo);
        if (signo == SIGCHLD) {
            wait_status = child.try_wait();
        } else if (signals::is_forwarded(signo) && !signals::came_from_terminal(info)) {
            log::info("forwarding signal %d to the command (pid %d)", signo, child.pid());
            child.signal(signo);
        }
    }
}

}  // namespace

int run(SlirpSession& slirp, int signal_fd, ChildProcess& child)
{
    std::vector<pollfd> fds;
    std::optional<int> wait_status;
    int64_t drain_deadline = 0;

    for (;;) {
        fds.assign(1, pollfd{signal_fd, POLLIN, 0});
        uint32_t timeout_ms = UINT32_MAX;
        slirp.fill(fds, timeout_ms);
        if (wait_status)
            timeout_ms = std::min(timeout_ms, kDrainIdleMs);

        int ready = ::poll(fds.data(), fds.size(), timeout_ms == UINT32_MAX ? -1 : static_cast<int>(timeout_ms));
        if (ready < 0 && errno != EINTR)
            throw_errno("poll");
        const size_t frames = slirp.dispatch(fds, ready < 0);

        if (wait_status) {
            // Leave after one whole quiet poll period, or at the drain limit.
            bool idle = frames == 0 && !slirp.has_pending_output();
            if (idle || now_ms() >= drain_deadline)
                return *wait_status;
        }
        if (fds[0].revents & POLLIN) {
            const bool was_running = !wait_status;
            handle_signals(signal_fd, child, wait_status);
            if (was_running && wait_status)
                drain_deadline = now_ms() + kDrainLimitMs;
        }
    }
}

}  // namespace portwrap::event_loop
