// ForwardTable: the forwards of one run, set up at start and changed at run time
// through the control socket. It owns each forward's relay (TCP with the relay
// driver, every UDP forward) or its libslirp hostfwd (TCP with the slirp driver),
// and is the one PollSource the event loop sees for all the relays.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "forward_spec.h"
#include "pipe_pool.h"
#include "poll_source.h"

namespace portwrap {

class Relay;
class SlirpSession;
class UdpRelay;

class ForwardTable final : public PollSource {
public:
    // `connector_socket` stays the caller's; -1 if there is no connector (then only
    // TCP forwards of the slirp driver can be set up). max_connections: how many
    // connections each relayed TCP forward keeps open at once (0: no limit).
    ForwardTable(SlirpSession& slirp, bool relay_driver, int connector_socket, size_t max_connections);
    ~ForwardTable() override;

    // Sets up one forward. Returns its host side as bound, as --port-file lists it
    // ("127.0.0.1:40123", "[::1]:9876", "127.0.0.1:5353/udp", "unix:PATH"). Throws
    // Error naming the host side; then nothing has changed.
    std::string add(const forward::Spec& spec);
    // The pipes every relay splices through, for relays that are not forwards (-T).
    PipePool& pipes() noexcept { return pipes_; }
    // Removes the forward with the same protocol and host side (and guest port, if
    // `spec` names one). Its listener closes at once; connections already made run
    // to their end. Returns false if no forward matches.
    bool remove(const forward::Spec& spec);
    // Each forward as a -p value that recreates it: "127.0.0.1:40123:8888/tcp",
    // "[::1]:9876:8888/tcp", "unix:PATH:8888".
    std::vector<std::string> list() const;

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override;

private:
    struct Forward;

    SlirpSession& slirp_;
    bool relay_driver_;
    int connector_;
    size_t max_connections_;
    PipePool pipes_;  // every relay's; declared first, so it outlives them
    std::list<Forward> forwards_;
    std::list<std::unique_ptr<Relay>> retired_;  // removed, still carrying connections
};

}  // namespace portwrap
