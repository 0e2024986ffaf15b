#include "forward_table.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "connector.h"
#include "error.h"
#include "host_endpoint.h"
#include "log.h"
#include "relay.h"
#include "slirp_session.h"
#include "udp_relay.h"

namespace portwrap {

struct ForwardTable::Forward {
    forward::Spec spec;      // with the port that was bound for port 0
    std::string host_side;   // as bound, "/udp" appended for UDP
    std::unique_ptr<Relay> relay;
    std::unique_ptr<UdpRelay> udp;  // neither: a libslirp hostfwd
    // Handoff driver: portwrap's own reference to the host socket, bound (listening
    // while a server holds it), given to each server that binds the guest port.
    // Invalid once relayed instead.
    UniqueFd host_socket;
    bool handed_off = false;
    std::unique_ptr<Relay> inside;  // clients inside -> the host side, once handed off
    std::vector<UniqueFd> holders;  // pidfds of processes known to hold host_socket
    size_t holders_index = SIZE_MAX;  // the first of them in the pollfd vector
};

namespace {

// spec's port taken from the host side as bound ("…:40123").
forward::Spec with_bound_port(forward::Spec spec, const std::string& bound)
{
    if (spec.unix_path.empty()) {
        const size_t colon = bound.rfind(':');
        if (colon != std::string::npos)
            spec.host_port = static_cast<uint16_t>(std::stoul(bound.substr(colon + 1)));
    }
    return spec;
}

// A handoff forward's host socket, bound but not listening (host_endpoint::bind_tcp),
// made a listener for a relay. SO_REUSEADDR again, so that listen() succeeds despite
// connections of an earlier server still in TIME_WAIT.
UniqueFd listening(UniqueFd socket, const std::string& host_side)
{
    int on = 1;
    ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::listen(socket.get(), SOMAXCONN) != 0)
        log::error("warning: portwrap cannot listen on %s to relay it: %s", host_side.c_str(), std::strerror(errno));
    return socket;
}

}  // namespace

ForwardTable::ForwardTable(SlirpSession& slirp, bool relay_driver, Connector& connector, size_t max_connections,
                           bool handoff)
    : slirp_(slirp), relay_driver_(relay_driver), handoff_(handoff), connector_(connector),
      max_connections_(max_connections)
{
}

ForwardTable::~ForwardTable() = default;

std::string ForwardTable::add(const forward::Spec& spec)
{
    const bool udp = spec.protocol == forward::Protocol::Udp;
    const bool handoff = handoff_ && !udp && spec.unix_path.empty() && !bound_inside_[spec.guest_port];
    const bool relay = relay_driver_ || (handoff_ && !handoff);
    if ((udp || relay) && !connector_.running())
        throw Error("cannot add " + forward::host_side(spec) + ": portwrap started no connector in the namespace");
    Forward entry;
    if (udp) {
        UniqueFd socket = host_endpoint::bind_udp(spec);
        entry.host_side = host_endpoint::bound_side(socket.get());
        entry.udp = std::make_unique<UdpRelay>(std::move(socket), spec.guest_port, connector_);
        log::info("relaying %s/udp to 127.0.0.1:%u inside the namespace", entry.host_side.c_str(), spec.guest_port);
    } else if (handoff) {
        // Bound from now on, so a busy port fails before the command runs; listening
        // only once a server binds the guest port and gets it (handoff.cpp). Until
        // then a client is refused at once, not left waiting in a backlog for a server
        // that may never come.
        entry.host_socket = host_endpoint::bind_tcp(spec);
        entry.host_side = host_endpoint::bound_side(entry.host_socket.get());
        log::info("bound %s, to hand to the server that binds port %u inside (refusing its clients until then)",
                  entry.host_side.c_str(), spec.guest_port);
    } else if (relay) {
        UniqueFd listener = host_endpoint::listen_tcp(spec);
        entry.host_side = host_endpoint::bound_side(listener.get());
        entry.relay = std::make_unique<Relay>(std::move(listener), spec.guest_port, connector_, pipes_, max_connections_);
        log::info("relaying %s to 127.0.0.1:%u inside the namespace", entry.host_side.c_str(), spec.guest_port);
    } else {
        entry.host_side = slirp_.add_forward(spec);
    }
    entry.spec = with_bound_port(spec, entry.host_side);
    if (udp)
        entry.host_side += "/udp";
    forwards_.push_back(std::move(entry));
    return forwards_.back().host_side;
}

bool ForwardTable::remove(const forward::Spec& spec)
{
    for (auto it = forwards_.begin(); it != forwards_.end(); ++it) {
        const forward::Spec& have = it->spec;
        if (have.protocol != spec.protocol || forward::host_side(have) != forward::host_side(spec) ||
            (spec.guest_port != 0 && spec.guest_port != have.guest_port))
            continue;
        if (it->inside) {
            it->inside->close_listener();
            if (!it->inside->idle())
                retired_.push_back(std::move(it->inside));
        }
        // A server that holds the handed-off socket keeps it; portwrap lets go of its
        // reference, so the port is free once that server closes it.
        it->host_socket.reset();
        if (it->relay) {
            it->relay->close_listener();
            if (!it->relay->idle())
                retired_.push_back(std::move(it->relay));
        } else if (!it->udp && !handoff_) {
            slirp_.remove_forward(have);
        }
        log::info("removed the forward %s", it->host_side.c_str());
        forwards_.erase(it);
        return true;
    }
    return false;
}

std::vector<std::string> ForwardTable::list() const
{
    std::vector<std::string> lines;
    for (const Forward& f : forwards_) {
        const std::string guest = ":" + std::to_string(f.spec.guest_port);
        lines.push_back(f.spec.unix_path.empty()
                            ? forward::host_side(f.spec) + guest + "/" + forward::protocol_name(f.spec.protocol)
                            : forward::host_side(f.spec) + guest);
    }
    return lines;
}

void ForwardTable::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    for (Forward& f : forwards_) {
        if (f.relay)
            f.relay->fill(fds, timeout_ms);
        else if (f.udp)
            f.udp->fill(fds, timeout_ms);
        if (f.inside)
            f.inside->fill(fds, timeout_ms);
        f.holders_index = fds.size();
        for (const UniqueFd& holder : f.holders)
            fds.push_back({holder.get(), POLLIN, 0});
    }
    for (auto& relay : retired_)
        relay->fill(fds, timeout_ms);
}

size_t ForwardTable::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    size_t work = 0;
    // A forward added during this round (by the control socket) has not filled yet;
    // its dispatch then finds none of its fds and does nothing.
    for (Forward& f : forwards_) {
        if (f.relay)
            work += f.relay->dispatch(fds, poll_failed);
        else if (f.udp)
            work += f.udp->dispatch(fds, poll_failed);
        if (f.inside)
            work += f.inside->dispatch(fds, poll_failed);
        bool exited = false;
        for (size_t i = 0; !poll_failed && i < f.holders.size() && f.holders_index + i < fds.size(); ++i)
            exited |= fds[f.holders_index + i].fd == f.holders[i].get() && fds[f.holders_index + i].revents != 0;
        f.holders_index = SIZE_MAX;
        if (exited) {
            watch_holders(f);
            ++work;
        }
    }
    for (auto it = retired_.begin(); it != retired_.end();) {
        work += (*it)->dispatch(fds, poll_failed);
        it = (*it)->idle() ? retired_.erase(it) : std::next(it);
    }
    return work;
}

bool ForwardTable::has_pending_output() const noexcept
{
    for (const Forward& f : forwards_)
        if ((f.relay && f.relay->has_pending_output()) || (f.inside && f.inside->has_pending_output()))
            return true;
    for (const auto& relay : retired_)
        if (relay->has_pending_output())
            return true;
    return false;
}

int ForwardTable::handoff_socket(int family, uint16_t guest_port) const noexcept
{
    for (const Forward& f : forwards_)
        if (f.host_socket && f.spec.guest_port == guest_port && (f.spec.ipv6 ? AF_INET6 : AF_INET) == family)
            return f.host_socket.get();
    return -1;
}

void ForwardTable::handed_off(int family, uint16_t guest_port, UniqueFd inside, const sockaddr_storage& address,
                              UniqueFd holder, bool dual_stack)
{
    if (dual_stack && family == AF_INET6) {
        const Forward* six = nullptr;
        for (const Forward& f : forwards_)
            if (f.host_socket && f.spec.ipv6 && f.spec.guest_port == guest_port)
                six = &f;
        for (Forward& f : forwards_) {
            if (!six || !f.host_socket || f.spec.ipv6 || f.handed_off || f.spec.guest_port != guest_port)
                continue;
            log::info("the server bound [::]:%u inside (IPv4 too): relaying %s to %s", guest_port,
                      f.host_side.c_str(), six->host_side.c_str());
            f.relay = std::make_unique<Relay>(listening(std::move(f.host_socket), f.host_side),
                                              Relay::connect_to(host_endpoint::host_address(six->spec), six->host_side),
                                              pipes_, max_connections_);
        }
    }
    for (Forward& f : forwards_) {
        if (!f.host_socket || f.spec.guest_port != guest_port || (f.spec.ipv6 ? AF_INET6 : AF_INET) != family)
            continue;
        if (!f.handed_off)
            log::info("handed %s to the server that bound port %u inside", f.host_side.c_str(), guest_port);
        f.handed_off = true;
        if (holder)
            f.holders.push_back(std::move(holder));
        if (f.inside || !inside)
            return;
        // The caller's socket was made inside the namespace, so it binds there, where
        // the caller asked. What it asked was read from its memory and may have changed
        // since: that only moves this listener within the command's own namespace.
        const socklen_t length = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
        sockaddr_storage storage = address;
        int on = 1;
        ::setsockopt(inside.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::bind(inside.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
            ::listen(inside.get(), SOMAXCONN) != 0 ||
            ::fcntl(inside.get(), F_SETFL, ::fcntl(inside.get(), F_GETFL) | O_NONBLOCK) != 0) {
            log::info("clients inside cannot reach %s through port %u: %s", f.host_side.c_str(), guest_port,
                      std::strerror(errno));
            return;
        }
        f.inside = std::make_unique<Relay>(std::move(inside), Relay::connect_to(host_endpoint::host_address(f.spec), f.host_side),
                                           pipes_, max_connections_);
        return;
    }
}

namespace {

// Whether process `pid` has an fd open on the file with this device and inode.
bool holds(pid_t pid, dev_t device, ino_t inode)
{
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* fds = ::opendir(dir.c_str());
    if (!fds)
        return false;
    bool found = false;
    while (const dirent* entry = ::readdir(fds)) {
        struct stat info{};
        if (entry->d_name[0] != '.' && ::fstatat(dirfd(fds), entry->d_name, &info, 0) == 0 &&
            info.st_dev == device && info.st_ino == inode) {
            found = true;
            break;
        }
    }
    ::closedir(fds);
    return found;
}

}  // namespace

void ForwardTable::watch_holders(Forward& f)
{
    std::vector<UniqueFd> alive;
    for (UniqueFd& holder : f.holders) {
        pollfd exited{holder.get(), POLLIN, 0};
        if (::poll(&exited, 1, 0) == 0)
            alive.push_back(std::move(holder));
    }
    f.holders = std::move(alive);
    if (!f.holders.empty() || !f.host_socket)
        return;
    struct stat socket_info{};
    if (::fstat(f.host_socket.get(), &socket_info) != 0)
        return;
    for (pid_t pid : namespace_processes::list(namespace_)) {
        if (!holds(pid, socket_info.st_dev, socket_info.st_ino))
            continue;
        UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (pidfd) {
            f.holders.push_back(std::move(pidfd));
            return;  // it is watched now; a forked worker still serves
        }
    }
    // No server holds it. connect(AF_UNSPEC) takes a listening TCP socket back to
    // CLOSE: the connections in its backlog are reset, and new ones are refused.
    sockaddr unspecified{};
    unspecified.sa_family = AF_UNSPEC;
    ::connect(f.host_socket.get(), &unspecified, sizeof unspecified);
    // A port the kernel picked (-p 0:GUEST) is released by that (getsockname still
    // shows it); bind it again, by number now, so that it stays the user's. A port
    // bound by number stays bound, and bind() then fails with EINVAL.
    const host_endpoint::SocketAddress address = host_endpoint::host_address(f.spec);
    if (::bind(f.host_socket.get(), address.get(), address.length) != 0 && errno != EINVAL)
        log::error("warning: the server inside closed %s, and portwrap cannot bind it again: %s", f.host_side.c_str(),
                   std::strerror(errno));
    // Two SO_REUSEADDR sockets may share a port while neither listens: another user
    // could bind this one and listen before the next server does. Without
    // SO_REUSEADDR on portwrap's socket their listen() conflicts with it and fails.
    // The next handoff sets it again (handoff.cpp), so the server's listen() wins.
    int off = 0;
    ::setsockopt(f.host_socket.get(), SOL_SOCKET, SO_REUSEADDR, &off, sizeof off);
    log::info("no server inside holds %s any more: refusing its clients until one binds port %u again",
              f.host_side.c_str(), f.spec.guest_port);
}

void ForwardTable::bound_inside(uint16_t guest_port)
{
    bound_inside_[guest_port] = true;
    for (Forward& f : forwards_) {
        if (!f.host_socket || f.handed_off || f.spec.guest_port != guest_port || !connector_.running())
            continue;
        log::info("the server bound port %u inside in a way the handoff cannot serve: relaying %s instead",
                  guest_port, f.host_side.c_str());
        f.relay = std::make_unique<Relay>(listening(std::move(f.host_socket), f.host_side), guest_port, connector_,
                                          pipes_, max_connections_);
    }
}

}  // namespace portwrap
