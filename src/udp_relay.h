// UdpRelay: one UDP forward. portwrap receives datagrams on the host socket and,
// per client address, sends them on a UDP socket connected to 127.0.0.1:GUEST_PORT
// inside the namespace (made by the connector); the answers go back to that client.
//
// Why not libslirp's UDP hostfwd: it hands the guest 10.0.2.2 as the client, and
// with host loopback blocked (the default) libslirp drops every answer to it.
//
// A client's session ends after kIdleMs without traffic either way, or when the
// oldest must make room (at most kMaxSessions), as a NAT's UDP mapping would.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <list>
#include <memory>
#include <vector>

#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class Connector;

class UdpRelay final : public PollSource {
public:
    static constexpr int64_t kIdleMs = 60'000;
    static constexpr size_t kMaxSessions = 256;

    // `host_socket`: a non-blocking UDP socket bound to the host side.
    // `connector` stays the caller's and must outlive this.
    // `idle_ms`: kIdleMs but in unit tests (tests/unit/test_udp_relay.cpp).
    UdpRelay(UniqueFd host_socket, uint16_t guest_port, Connector& connector, int64_t idle_ms = kIdleMs);

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override { return false; }  // datagrams are never held

private:
    struct Session {
        sockaddr_storage client{};
        socklen_t client_length = 0;
        UniqueFd guest;
        int64_t last_used_ms = 0;
        size_t index = SIZE_MAX;  // in the pollfd vector
    };

    size_t from_host();
    size_t from_guest(Session& session);
    Session* session_for(const sockaddr_storage& client, socklen_t length, int64_t now);

    UniqueFd host_;
    uint16_t guest_port_;
    Connector& connector_;
    int64_t idle_ms_;
    size_t host_index_ = SIZE_MAX;
    std::list<Session> sessions_;  // most recently used first
    std::unique_ptr<uint8_t[]> buffer_;
};

}  // namespace portwrap
