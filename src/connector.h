// The connector: a small process that stays inside the namespace and, for the relay
// port driver, opens TCP connections to the guest port on the namespace's loopback
// and hands them to portwrap. Only something inside the network namespace can
// create sockets there, and an unprivileged portwrap cannot setns() into it. It is
// non-dumpable and runs under its own seccomp filter (sandbox_policies.h).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "unique_fd.h"

namespace portwrap::connector {

// Where inside the namespace a socket connects to.
enum class Target : uint8_t {
    Loopback,      // 127.0.0.1: the relay's target
    TapAddress,    // 10.0.2.100: where libslirp delivers IPv4 forwards
    TapAddress6,   // fd00::100: where libslirp delivers IPv6 forwards
};

struct Request {
    uint16_t port = 0;  // connect to port at `target` inside the namespace
    uint8_t udp = 0;    // 1: a UDP socket connected there, else TCP
    Target target = Target::Loopback;
};

struct Reply {
    int32_t error = 0;  // 0, or the errno of socket()/connect(); the socket rides along
};

// Called by the namespace child before exec: starts the connector as portwrap's
// own child (CLONE_PARENT), so the command never sees it as a child. It keeps only `socket` open and serves it until portwrap closes its end.
// In_pid_namespace: the caller is the init of a new PID namespace (--pid-ns), where
// re-parenting ends at the init; the connector is then the caller's own child.
// Returns its pid (as the caller sees it). Throws Error. The caller's copy of
// `socket` is closed.
pid_t spawn(UniqueFd socket, pid_t portwrap_pid, bool in_pid_namespace);

}  // namespace portwrap::connector

namespace portwrap {

// portwrap's side of the connector, from the end of start-up to its reaping: the one
// owner of portwrap's end of its socketpair and of its pid. The forwards, their relays
// and the readiness probe ask it for sockets inside; the session ends it.
class Connector {
public:
    Connector() = default;  // none: every open() fails (EBADF)
    // `socket`: portwrap's end; `pid`: the connector's, when portwrap is its parent
    // and must reap it (0 with --pid-ns, where the init reaps it).
    Connector(UniqueFd socket, pid_t pid) noexcept : socket_(std::move(socket)), pid_(pid) {}
    Connector(const Connector&) = delete;
    Connector& operator=(const Connector&) = delete;

    bool running() const noexcept { return socket_.valid(); }

    // A socket connected to `port` at `target` inside: non-blocking, close-on-exec,
    // a TCP connect possibly still in progress; or an invalid fd with errno set. It
    // never blocks for long: a connector that does not answer within a second
    // (stopped, say) is given up — its socket is shut down, one error is logged, and
    // this and every later request fail at once (ETIMEDOUT, then EPIPE). No throw:
    // the event loop calls it for each new connection.
    UniqueFd open(uint16_t port, bool udp = false, connector::Target target = connector::Target::Loopback) noexcept;

    // Ends it once the command is gone: closes the socket (it exits on end-of-file)
    // and reaps it within grace_ms, woken through signal_fd (namespace_processes::reap);
    // one that does not exit (stopped: it never reads the end-of-file, and the
    // leftover sweep cannot see it, being non-dumpable) is SIGKILLed and reaped.
    void stop(int grace_ms, int signal_fd) noexcept;

private:
    UniqueFd socket_;
    pid_t pid_ = 0;
};

}  // namespace portwrap
