// The host side of a forward as sockets: socket addresses for a forward::Spec, the
// TCP listener the relay driver accepts on, and the checks that keep a Unix socket
// path from replacing anything but a stale socket of the user's own.
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "forward_spec.h"
#include "unique_fd.h"

namespace portwrap::host_endpoint {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// The address to bind for spec's host side (IPv4, IPv6 or Unix).
SocketAddress host_address(const forward::Spec& spec);

// "127.0.0.1:40123", "[::1]:40123" or "unix:PATH": what `fd` is bound to, with the
// port the kernel picked for port 0.
std::string bound_side(int fd);

// The one-line error for a failed bind() of spec's host side, with what to do about
// the two usual causes: a port in use (-p 0 picks a free one) and a port below
// net.ipv4.ip_unprivileged_port_start.
std::string bind_failure(const std::string& where, const forward::Spec& spec, int err);

// Makes way for a Unix socket at `path`: nothing there is fine; a socket of this
// user's that nobody listens on (left by a portwrap that was killed) is removed;
// anything else (a live socket, another user's, a file, a directory, a socket whose
// owner file names another host) throws Error, as does a directory on the way that
// others could write to (path_safety.h).
void make_way_for_unix_socket(const std::string& path);

// Sets the umask for as long as it lives: sockets bound meanwhile get mode 0600.
class OwnerOnlyUmask {
public:
    OwnerOnlyUmask() noexcept : old_(::umask(0177)) {}
    ~OwnerOnlyUmask() { ::umask(old_); }
    OwnerOnlyUmask(const OwnerOnlyUmask&) = delete;
    OwnerOnlyUmask& operator=(const OwnerOnlyUmask&) = delete;

private:
    mode_t old_;
};

// A non-blocking TCP listener on spec's host side (backlog SOMAXCONN). Throws Error
// naming the address when it cannot listen.
UniqueFd listen_tcp(const forward::Spec& spec);

// A non-blocking, owner-only (umask 0177) listener on the Unix socket `path`: a
// unix: forward's host side, the --control-socket. Makes way for it first
// (make_way_for_unix_socket). Throws Error naming "unix:PATH".
UniqueFd listen_unix(const std::string& path);

// A non-blocking TCP socket bound to spec's IP host side, not listening, without
// SO_REUSEADDR: the port is taken (a busy one throws Error, as listen_tcp does), and
// nobody else can listen on it, while connections to it are refused. The handoff
// driver's host socket until a server inside binds the guest port (forward_table.h).
UniqueFd bind_tcp(const forward::Spec& spec);

// A non-blocking UDP socket bound to spec's host side. Throws Error naming it.
UniqueFd bind_udp(const forward::Spec& spec);

}  // namespace portwrap::host_endpoint
