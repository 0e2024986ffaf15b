#include "event_loop.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "signals.h"

namespace portwrap::event_loop {
namespace {

// After the command exits, keep relaying what is still on its way to host clients (a
// server's last response) until nothing is; give up once no source has moved anything
// for this long (a host client that stopped reading), and in any case after
// kDrainCapMs (something inside that streams on and on). A slow client is not a
// stopped one: a 2 s limit counted from the exit cut a 48 MiB answer short under load.
constexpr int64_t kDrainLimitMs = 2000;
constexpr int64_t kDrainCapMs = 30'000;
// While draining, a source's timer due this soon counts as data in flight: libslirp's
// delayed ACK (2 ms) holds back the namespace's next segments, and a relay
// connection stopped at its per-round budget asks for an immediate round. libslirp's
// slow timer (0.5 s), armed while any connection exists, does not count.
constexpr uint32_t kDrainTimerMs = 10;
// After traffic, the drain also wants this long without any: a poll that does not
// wait can look just before the namespace's kernel answers a window update libslirp
// or the relay has just sent (tests/integration/test-lifecycle.sh lost the tail of
// a 48 MiB answer that way under load). A run that moved nothing leaves at once.
constexpr int64_t kDrainQuietMs = 50;

bool is_termination_request(int signo)
{
    return signo == SIGTERM || signo == SIGINT || signo == SIGHUP || signo == SIGQUIT;
}

// portwrap is the subreaper of everything the command starts, so orphans of the
// command become its children: reap them, and the command itself when it ends.
void reap_children(ChildProcess& child, std::optional<int>& wait_status)
{
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0)
            return;
        if (info.si_pid == child.pid() && !wait_status) {
            wait_status = child.try_wait();
            if (!wait_status)
                return;
        } else {
            ::waitpid(info.si_pid, nullptr, WNOHANG);
        }
    }
}

// Reads every pending signal. Until the child has ended, forwards the ones that should
// be forwarded (unless policy says the sender signalled the command itself), arms
// kill_deadline (0 when unarmed) for termination requests, and reaps children on
// SIGCHLD, setting wait_status when the command has ended.
void handle_signals(int signal_fd, ChildProcess& child, std::optional<int>& wait_status, int64_t& kill_deadline,
                    const StopPolicy& policy)
{
    signalfd_siginfo info;
    bool child_signal = false;
    while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int signo = static_cast<int>(info.ssi_signo);
        if (signo == SIGCHLD) {
            child_signal = true;
        } else if (!wait_status && signals::is_forwarded(signo) && !signals::came_from_terminal(info)) {
            if (policy.forward_signals) {
                log::info("forwarding signal %d to the command (pid %d)", signo, child.pid());
                child.signal(signo);
            } else {
                log::info("signal %d from pid %u not forwarded (--no-forward-signals)", signo, info.ssi_pid);
            }
            if (is_termination_request(signo) && kill_deadline == 0)
                kill_deadline = monotonic_ms() + policy.command_grace_ms;
        }
    }
    if (child_signal)
        reap_children(child, wait_status);
}

}  // namespace

int run(const std::vector<PollSource*>& sources, int signal_fd, ChildProcess& child, const StopPolicy& policy,
        const std::function<void()>& on_stop)
{
    std::vector<pollfd> fds;
    std::optional<int> wait_status;
    int64_t kill_deadline = 0;  // 0: not armed
    int64_t drain_cap = 0;  // set when the command exits
    bool stopping = false;  // on_stop() called
    int64_t last_work = INT64_MIN / 2;  // when a source last did work (monotonic ms)

    for (;;) {
        fds.assign(1, pollfd{signal_fd, POLLIN, 0});
        uint32_t timeout_ms = UINT32_MAX;
        for (PollSource* source : sources)
            source->fill(fds, timeout_ms);
        // Draining: look without waiting, unless a timer is about to send more.
        const bool drain_check = wait_status && timeout_ms > kDrainTimerMs;
        const int64_t quiet_left = last_work + kDrainQuietMs - monotonic_ms();
        if (drain_check)
            timeout_ms = quiet_left > 0 ? static_cast<uint32_t>(quiet_left) : 0;
        else if (!wait_status && kill_deadline != 0)
            timeout_ms = std::min(timeout_ms, static_cast<uint32_t>(std::max<int64_t>(0, kill_deadline - monotonic_ms())));

        int ready = ::poll(fds.data(), fds.size(), timeout_ms == UINT32_MAX ? -1 : static_cast<int>(timeout_ms));
        if (ready < 0 && errno != EINTR)
            throw_errno("poll");
        size_t work = 0;
        bool pending_output = false;
        for (PollSource* source : sources) {
            work += source->dispatch(fds, ready < 0);
            pending_output = pending_output || source->has_pending_output();
        }
        if (work != 0)
            last_work = monotonic_ms();

        if (wait_status) {
            // Drained: nothing was ready (no frame on the TAP, no socket with data or
            // an end to pass on), no source holds bytes for a host client, and no
            // timer is about to make the namespace send more. docs/design.md says why
            // this catches all the command wrote before it exited.
            const bool drained = drain_check && ready == 0 && work == 0 && !pending_output &&
                                 monotonic_ms() - last_work >= kDrainQuietMs;
            const int64_t now = monotonic_ms();
            if (drained || now - std::max(last_work, drain_cap - kDrainCapMs) >= kDrainLimitMs || now >= drain_cap)
                return *wait_status;
        }
        if (fds[0].revents & POLLIN) {
            const bool was_running = !wait_status;
            const bool was_asked = kill_deadline != 0;
            handle_signals(signal_fd, child, wait_status, kill_deadline, policy);
            if (was_running && wait_status)
                drain_cap = monotonic_ms() + kDrainCapMs;
            if (!stopping && ((!was_asked && kill_deadline != 0) || wait_status)) {
                stopping = true;
                on_stop();
            }
        }
        if (!wait_status && kill_deadline != 0 && monotonic_ms() >= kill_deadline) {
            log::error("the command (pid %d) is still running %g s after it was asked to stop: sending SIGKILL",
                       child.pid(), policy.command_grace_ms / 1000.0);
            child.signal(SIGKILL);
            kill_deadline = 0;
        }
    }
}

}  // namespace portwrap::event_loop
