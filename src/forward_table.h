// ForwardTable: the forwards of one run, set up at start and changed at run time
// through the control socket. It owns each forward's relay (TCP with the relay
// driver, every UDP forward) or its libslirp hostfwd (TCP with the slirp driver),
// and is the one PollSource the event loop sees for all the relays. With the handoff
// driver it holds each TCP forward's host socket until a server inside binds the
// guest port and gets it (handoff.h).
#pragma once

#include <sys/socket.h>

#include <bitset>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "forward_spec.h"
#include "namespace_processes.h"
#include "pipe_pool.h"
#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class Connector;
class Relay;
class SlirpSession;
class UdpRelay;

class ForwardTable final : public PollSource {
public:
    // `connector` stays the caller's and must outlive this; when it is not running,
    // only TCP forwards of the slirp driver can be set up. max_connections: how many
    // connections each relayed TCP forward keeps open at once (0: no limit).
    // Handoff: TCP forwards with an IP host side wait for a server's bind() instead of
    // relaying (Unix host sides are still relayed).
    ForwardTable(SlirpSession& slirp, bool relay_driver, Connector& connector, size_t max_connections,
                 bool handoff = false);
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

    // The handoff driver's questions, for a bind() inside to `guest_port` by a TCP
    // socket of `family` (AF_INET or AF_INET6). The host socket to give the caller:
    // the forward's own, bound (listening only while a server holds it; the handoff
    // makes it listen); -1 when no handoff forward matches.
    int handoff_socket(int family, uint16_t guest_port) const noexcept;
    // The caller got it. `inside` is the caller's own socket (in the namespace), now
    // portwrap's: it binds where the caller asked (`address`, inside), listens and
    // relays to the host side, so that clients inside still reach the server where
    // they would have without the handoff (once per forward).
    // Dual_stack: the caller bound an IPv6 socket to [::] without IPV6_V6ONLY, so it
    // expects IPv4 clients too: IPv4 forwards to the port not handed off are relayed,
    // on the host, to the IPv6 forward's host side (the server has one socket only).
    // Holder: a pidfd of the process that got it; when every process holding the
    // host socket has exited, portwrap stops it listening (see watch_holders()).
    void handed_off(int family, uint16_t guest_port, UniqueFd inside, const sockaddr_storage& address,
                    UniqueFd holder, bool dual_stack = false);
    // Where to look for the processes that still hold a handed-off socket.
    void set_namespace(const namespace_processes::NamespaceId& ns) noexcept { namespace_ = ns; }
    // A bind to guest_port proceeded inside (no handoff forward of that family): each
    // forward to that port not yet handed off falls back to the relay, for good, and
    // so does a forward to that port added later (its server is already inside).
    void bound_inside(uint16_t guest_port);

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override;

private:
    struct Forward;

    // A holder of f's host socket exited: find any other process inside that still
    // holds it; with none, the socket stops listening, so clients are refused
    // (reset) instead of waiting for a server that is gone. It stays bound: the port
    // is still the user's, and the next server to bind gets it and listens again.
    void watch_holders(Forward& f);

    SlirpSession& slirp_;
    bool relay_driver_;
    bool handoff_;
    std::bitset<65536> bound_inside_;  // guest ports some bind() inside has taken
    namespace_processes::NamespaceId namespace_;
    Connector& connector_;
    size_t max_connections_;
    PipePool pipes_;  // every relay's; declared first, so it outlives them
    std::list<Forward> forwards_;
    std::list<std::unique_ptr<Relay>> retired_;  // removed, still carrying connections
};

}  // namespace portwrap
