// The relay port driver: portwrap itself listens on the host port and joins each
// accepted connection to one the connector opened to 127.0.0.1:GUEST_PORT inside the
// namespace, moving bytes with splice() through a pipe (no copy into user space).
// A direction holds a pipe from the PipePool only while bytes are in flight, so an
// idle connection costs its two sockets and nothing else. Half-closes and resets are
// passed on. At most max_connections are open at once; past that, new ones are reset.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <vector>

#include "pipe_pool.h"
#include "host_endpoint.h"
#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class Connector;

class Relay final : public PollSource {
public:
    // Accepts on `listener` (from host_endpoint::listen_tcp) and connects to
    // 127.0.0.1:guest_port inside through `connector`, which the caller keeps, as it
    // does `pipes`, while the relay runs. max_connections: how many may be open at
    // once (0: no limit).
    Relay(UniqueFd listener, uint16_t guest_port, Connector& connector, PipePool& pipes, size_t max_connections);
    // Another target for each accepted connection (-T: a port on the host's loopback,
    // host_access_relays.h): `open` returns a non-blocking socket, its connect possibly
    // in progress, or an invalid fd with errno set; `description` names the target in
    // log lines ("127.0.0.1:8081 on the host").
    struct Target {
        std::function<UniqueFd()> open;
        std::string description;
    };
    Relay(UniqueFd listener, Target target, PipePool& pipes, size_t max_connections);
    // The handoff driver's relay for clients inside: accepts on a socket in the
    // namespace and connects each connection to `target`, a forward's host side,
    // from portwrap's namespace (connect_to()).
    static Target connect_to(const host_endpoint::SocketAddress& target, std::string description);
    ~Relay() override;

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override { return connections_holding_data_ > 0; }

    // Stops accepting (the forward was removed); connections already made go on.
    void close_listener() noexcept { listener_.reset(); }
    // True when no connection is open.
    bool idle() const noexcept { return connections_.empty(); }
    size_t open_connections() const noexcept { return open_; }

private:
    struct Direction {
        int from = -1, to = -1;
        PipePool::Pipe pipe;  // held only while in_pipe > 0 (and during a pump)
        size_t in_pipe = 0;   // bytes spliced in, not yet out
        bool may_grow = true;  // growing a pipe has not failed for it yet
        bool end_of_input = false;
        bool shut_down = false;  // shutdown(to, SHUT_WR) done
        bool done() const { return shut_down; }
    };
    struct alignas(8) Connection {
        UniqueFd host, guest;
        bool connecting = true;  // guest connect() still in progress
        bool closed = false;     // over; erased at the end of the round
        bool again = false;      // in again_: stopped at the per-round budget
        bool holding_data = false;  // counted in connections_holding_data_
        bool starved = false;    // in starved_: a direction found no pipe
        Direction upstream, downstream;  // host->guest, guest->host
        std::list<Connection>::iterator self;
    };
    // NoPipe: there may be input, but no pipe could be had (out of fds).
    enum class Pump { Idle, Progress, Budget, NoPipe, Failed };

    void accept_connections();
    // Out of fds (or kernel memory) for one more connection: pause accepting briefly.
    void pause_accepting(const char* what, int error);
    // Moves what it can in one direction, until both ends would block or `budget`
    // bytes have moved. Adds the bytes moved to `moved`.
    Pump pump(Direction& direction, size_t budget, size_t& moved);
    // Connections whose input waits for a pipe: retried once one is spare, or after
    // kPipeRetryMs (edge-triggered epoll will not report that input again).
    void wait_for_pipe(Connection& connection, int error);
    void retry_starved(size_t& moved);
    // Refuses one accepted connection: the limit of open connections is reached.
    void refuse(UniqueFd& host);
    // Services a connection after epoll reported `events` on one of its sockets (the
    // guest's when guest_socket), or with no events when it is in again_.
    void service(Connection& connection, uint32_t events, bool guest_socket, size_t& moved);
    void close_connection(Connection& connection, bool reset) noexcept;
    // Where accepted connections go, for log lines.
    std::string target_name() const;

    UniqueFd listener_;
    PipePool& pipes_;  // the caller's
    size_t max_connections_;  // 0: no limit
    size_t open_ = 0;         // connections accepted and not yet closed
    bool told_limit_ = false;  // said (under -v) that the limit was reached
    UniqueFd epoll_;
    Target target_;
    size_t listener_index_ = SIZE_MAX;
    size_t epoll_index_ = SIZE_MAX;
    int64_t accept_paused_until_ms_ = 0;  // after running out of fds: stop polling the listener briefly
    std::list<Connection> connections_;
    std::vector<Connection*> again_;  // to be serviced next round without waiting for an event
    std::vector<Connection*> closed_;  // to be erased at the end of the round
    std::vector<Connection*> starved_;  // waiting for a pipe
    int64_t pipe_retry_at_ms_ = 0;
    bool told_pipe_shortage_ = false;  // said so; cleared once no connection waits
    int pipe_error_ = 0;  // why the last pump found no pipe
    std::vector<epoll_event> events_;
    size_t connections_holding_data_ = 0;  // connections with bytes in a pipe
};

}  // namespace portwrap
