// The relay port driver: portwrap itself listens on the host port and joins each
// accepted connection to one the connector opened to 127.0.0.1:GUEST_PORT inside the
// namespace, moving bytes with splice() through a pipe per direction (no copy into
// user space). Half-closes and resets are passed on.
#pragma once

#include <cstdint>
#include <list>

#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class Relay final : public PollSource {
public:
    // Accepts on `listener` (from host_endpoint::listen_tcp) and connects to
    // 127.0.0.1:guest_port inside through the connector at `connector_socket`, which
    // the caller owns and keeps open while the relay runs.
    Relay(UniqueFd listener, uint16_t guest_port, int connector_socket);
    ~Relay() override;

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override;

    // Stops accepting (the forward was removed); connections already made go on.
    void close_listener() noexcept { listener_.reset(); }
    // True when no connection is open.
    bool idle() const noexcept { return connections_.empty(); }

private:
    struct Direction {
        int from = -1, to = -1;
        UniqueFd pipe_read, pipe_write;
        size_t in_pipe = 0;  // bytes spliced in, not yet out
        bool end_of_input = false;
        bool shut_down = false;  // shutdown(to, SHUT_WR) done
        bool done() const { return shut_down; }
    };
    struct Connection {
        UniqueFd host, guest;
        bool connecting = true;  // guest connect() still in progress
        Direction upstream, downstream;  // host->guest, guest->host
        size_t host_index = SIZE_MAX, guest_index = SIZE_MAX;  // in the pollfd vector
    };

    void accept_connections();
    // Moves what it can in one direction; returns bytes moved, -1 on a fatal error.
    static long pump(Direction& direction);
    static bool open_pipe(Direction& direction);
    // Returns false when the connection is over (closed or failed).
    bool service(Connection& connection, short guest_events, size_t& moved);

    UniqueFd listener_;
    int connector_;
    uint16_t guest_port_;
    size_t listener_index_ = SIZE_MAX;
    int64_t accept_paused_until_ms_ = 0;  // after EMFILE: stop polling the listener briefly
    std::list<Connection> connections_;
};

}  // namespace portwrap
