// The relay port driver: portwrap itself listens on the host port and joins each
// accepted connection to one the connector opened to 127.0.0.1:GUEST_PORT inside the
// namespace, moving bytes with splice() through a pipe per direction (no copy into
// user space). Half-closes and resets are passed on.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <list>
#include <vector>

#include "host_endpoint.h"
#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class Relay final : public PollSource {
public:
    // Accepts on `listener` (from host_endpoint::listen_tcp) and connects to
    // 127.0.0.1:guest_port inside through the connector at `connector_socket`, which
    // the caller owns and keeps open while the relay runs.
    Relay(UniqueFd listener, uint16_t guest_port, int connector_socket);
    // The other way round, for the handoff driver: accepts on `listener`, a socket
    // inside the namespace, and connects each connection to `target`, the host side
    // of a forward whose server holds the host socket, from portwrap's namespace.
    Relay(UniqueFd listener, const host_endpoint::SocketAddress& target);
    ~Relay() override;

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override { return connections_holding_data_ > 0; }

    // Stops accepting (the forward was removed); connections already made go on.
    void close_listener() noexcept { listener_.reset(); }
    // True when no connection is open.
    bool idle() const noexcept { return connections_.empty(); }

private:
    struct Direction {
        int from = -1, to = -1;
        UniqueFd pipe_read, pipe_write;
        size_t in_pipe = 0;   // bytes spliced in, not yet out
        size_t capacity = 0;  // the pipe's size in bytes (F_GETPIPE_SZ)
        bool may_grow = true;  // not yet tried to make it big
        bool big = false;      // grown: counted in big_pipes_
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
        Direction upstream, downstream;  // host->guest, guest->host
        std::list<Connection>::iterator self;
    };
    enum class Pump { Idle, Progress, Budget, Failed };

    void accept_connections();
    // Out of fds (or kernel memory) for one more connection: pause accepting briefly.
    void pause_accepting(const char* what, int error);
    // Moves what it can in one direction, until both ends would block or `budget`
    // bytes have moved. Adds the bytes moved to `moved`.
    Pump pump(Direction& direction, size_t budget, size_t& moved);
    void grow_pipe(Direction& direction) noexcept;
    static int open_pipe(Direction& direction);  // 0 or errno
    // Services a connection after epoll reported `events` on one of its sockets (the
    // guest's when guest_socket), or with no events when it is in again_.
    void service(Connection& connection, uint32_t events, bool guest_socket, size_t& moved);
    void close_connection(Connection& connection, bool reset) noexcept;

    UniqueFd listener_;
    int connector_;  // the caller's; -1 when relaying to target_
    host_endpoint::SocketAddress target_;
    UniqueFd epoll_;
    uint16_t guest_port_;
    size_t listener_index_ = SIZE_MAX;
    size_t epoll_index_ = SIZE_MAX;
    int64_t accept_paused_until_ms_ = 0;  // after running out of fds: stop polling the listener briefly
    std::list<Connection> connections_;
    std::vector<Connection*> again_;  // to be serviced next round without waiting for an event
    std::vector<Connection*> closed_;  // to be erased at the end of the round
    std::vector<epoll_event> events_;
    size_t connections_holding_data_ = 0;  // connections with bytes in a pipe
    size_t big_pipes_ = 0;  // pipes grown to 1 MiB, in open connections
};

}  // namespace portwrap
