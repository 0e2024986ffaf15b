#include "host_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "error.h"
#include "path_safety.h"
#include "socket_owner.h"

namespace portwrap::host_endpoint {

namespace {

// Its length is checked by the parser (forward::parse, cli's --control-socket).
SocketAddress unix_address(const std::string& path)
{
    SocketAddress address;
    auto* un = reinterpret_cast<sockaddr_un*>(&address.storage);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), std::min(path.size(), sizeof un->sun_path - 1));
    address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return address;
}

}  // namespace

SocketAddress host_address(const forward::Spec& spec)
{
    SocketAddress address;
    if (!spec.unix_path.empty()) {
        address = unix_address(spec.unix_path);
    } else if (spec.ipv6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(spec.host_port);
        inet_pton(AF_INET6, spec.host_addr.c_str(), &in6->sin6_addr);
        address.length = sizeof *in6;
    } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&address.storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(spec.host_port);
        inet_pton(AF_INET, spec.host_addr.c_str(), &in->sin_addr);
        address.length = sizeof *in;
    }
    return address;
}

std::string bound_side(int fd)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0)
        return "?";
    char text[INET6_ADDRSTRLEN] = "?";
    switch (storage.ss_family) {
    case AF_INET: {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
    }
    case AF_INET6: {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    case AF_UNIX: {
        const auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
        const size_t max = length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
        return "unix:" + std::string(un->sun_path, strnlen(un->sun_path, max));
    }
    default:
        return "?";
    }
}

void make_way_for_unix_socket(const std::string& path)
{
    const std::string context = "cannot use " + path + " for the Unix socket";
    path_safety::check_parents(path, context, ::geteuid());
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return;
        throw_errno("cannot use " + path + " for the Unix socket");
    }
    if (!S_ISSOCK(st.st_mode))
        throw Error("cannot use " + path + " for the Unix socket: it exists and is not a socket");
    if (st.st_uid != ::geteuid())
        throw Error("cannot use " + path + " for the Unix socket: a socket of uid " + std::to_string(st.st_uid) +
                    " is there");
    // A portwrap on another node of a shared home directory: its socket refuses
    // connections here like a stale one, but it is not to be taken.
    if (const auto owner = socket_owner::read(path, context); owner && owner->host != socket_owner::this_host())
        throw Error(context + ": portwrap on host " + owner->host + " (pid " + std::to_string(owner->pid) +
                    ") serves it; if that portwrap is gone, remove " + path + " and " + socket_owner::path_for(path));
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe)
        throw_errno("cannot create a socket to check " + path);
    forward::Spec spec;
    spec.unix_path = path;
    const SocketAddress address = host_address(spec);
    if (::connect(probe.get(), address.get(), address.length) == 0)
        throw Error("cannot use " + path + " for the Unix socket: a running program listens on it");
    if (errno != ECONNREFUSED)
        throw_errno("cannot use " + path + " for the Unix socket: checking whether it is stale");
    // Nobody listens: a socket left behind by a portwrap (or another server of this
    // user's) that was killed. Replace it.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw_errno("cannot remove the stale socket " + path);
}

std::string bind_failure(const std::string& where, const forward::Spec& spec, int err)
{
    std::string message = describe_errno("cannot listen on " + where, err);
    if (!spec.unix_path.empty())
        return message;
    if (err == EADDRINUSE)
        message += " (another program has this port: choose another, or -p 0 for any free one)";
    else if (err == EACCES && spec.host_port != 0)  // the only EACCES of bind() without a security module
        message += " (ports below net.ipv4.ip_unprivileged_port_start, 1024 by default, need privileges: "
                   "use a higher port, or -p 0)";
    return message;
}

namespace {

[[noreturn]] void throw_bind_failure(const std::string& where, const forward::Spec& spec)
{
    const int err = errno;
    throw Error(bind_failure(where, spec, err), kExitSetupFailure, err);
}

// A non-blocking TCP socket bound to spec's IP host side, with SO_REUSEADDR (connections
// of an earlier run still in TIME_WAIT do not make the port look busy); [::] is IPv6
// only, like the address says, and 0.0.0.0 separate. listen_tcp and bind_tcp start here.
UniqueFd bound_tcp(const forward::Spec& spec, const std::string& where)
{
    const SocketAddress address = host_address(spec);
    UniqueFd fd(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        throw_errno("cannot create a socket to listen on " + where);
    int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (spec.ipv6)
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (::bind(fd.get(), address.get(), address.length) != 0)
        throw_bind_failure(where, spec);
    return fd;
}

}  // namespace

UniqueFd listen_tcp(const forward::Spec& spec)
{
    if (!spec.unix_path.empty())
        return listen_unix(spec.unix_path);
    const std::string where = forward::host_side(spec);
    UniqueFd fd = bound_tcp(spec, where);
    if (::listen(fd.get(), SOMAXCONN) != 0)
        throw_errno("cannot listen on " + where);
    return fd;
}

UniqueFd listen_unix(const std::string& path)
{
    const std::string where = "unix:" + path;
    const SocketAddress address = unix_address(path);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        throw_errno("cannot create a socket to listen on " + where);
    make_way_for_unix_socket(path);
    {
        OwnerOnlyUmask owner_only;
        if (::bind(fd.get(), address.get(), address.length) != 0)
            throw_errno("cannot listen on " + where);
    }
    if (::listen(fd.get(), SOMAXCONN) != 0)
        throw_errno("cannot listen on " + where);
    return fd;
}

UniqueFd bind_tcp(const forward::Spec& spec)
{
    UniqueFd fd = bound_tcp(spec, forward::host_side(spec));
    // SO_REUSEADDR off again at once: two SO_REUSEADDR sockets may share a port while
    // neither listens, and another user's could then listen on it first. A listening
    // socket of anyone's still makes the bind fail.
    int off = 0;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &off, sizeof off);
    return fd;
}

UniqueFd bind_udp(const forward::Spec& spec)
{
    const std::string where = forward::host_side(spec) + "/udp";
    const SocketAddress address = host_address(spec);
    UniqueFd fd(::socket(address.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        throw_errno("cannot create a socket for " + where);
    int on = 1;
    if (spec.ipv6)
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (::bind(fd.get(), address.get(), address.length) != 0)
        throw_bind_failure(where, spec);
    return fd;
}

}  // namespace portwrap::host_endpoint
