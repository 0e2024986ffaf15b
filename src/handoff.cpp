#include "handoff.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "error.h"
#include "file_text.h"
#include "forward_table.h"
#include "log.h"

namespace portwrap {
namespace {

#ifndef PIDFD_THREAD
constexpr unsigned kPidfdThread = O_EXCL;  // Linux 6.9: a pidfd for a thread
#else
constexpr unsigned kPidfdThread = PIDFD_THREAD;
#endif

bool still_valid(int listener, uint64_t id) noexcept
{
    return ::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

// The process (thread group) of thread `tid`, as a pidfd. A thread that is not the
// group's leader needs PIDFD_THREAD (6.9) or its Tgid from /proc.
UniqueFd open_pidfd(pid_t tid) noexcept
{
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, tid, 0)));
    if (pidfd || errno != EINVAL)
        return pidfd;
    pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, tid, kPidfdThread)));
    if (pidfd)
        return pidfd;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
    const auto text = file_text::read(path, 2047);
    if (!text)
        return UniqueFd();
    const char* tgid = std::strstr(text->c_str(), "\nTgid:");
    if (!tgid)
        return UniqueFd();
    return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, std::atoi(tgid + 6), 0)));
}

// Whether the caller's fd `fd` is close-on-exec: /proc/PID/fdinfo's "flags:" (octal).
bool close_on_exec(pid_t tid, int fd) noexcept
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", static_cast<int>(tid), fd);
    const auto text = file_text::read(path, 511);
    if (!text)
        return false;
    const char* flags = std::strstr(text->c_str(), "flags:");
    return flags && (std::strtoul(flags + 6, nullptr, 8) & O_CLOEXEC) != 0;
}

int socket_option(int fd, int level, int name) noexcept
{
    int value = -1;
    socklen_t length = sizeof value;
    return ::getsockopt(fd, level, name, &value, &length) == 0 ? value : -1;
}

// Whether a TCP socket bound to `address` inside accepts connections to 127.0.0.1.
bool reachable_at_loopback4(int socket, const sockaddr_storage& address) noexcept
{
    if (address.ss_family == AF_INET) {
        const in_addr_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(&address)->sin_addr.s_addr);
        return ip == INADDR_ANY || ip == INADDR_LOOPBACK;
    }
    const in6_addr& ip = reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&ip))
        return ip.s6_addr[12] == 127 && ip.s6_addr[13] == 0 && ip.s6_addr[14] == 0 && ip.s6_addr[15] == 1;
    return IN6_IS_ADDR_UNSPECIFIED(&ip) && socket_option(socket, IPPROTO_IPV6, IPV6_V6ONLY) == 0;
}

}  // namespace

HandoffServer::HandoffServer(UniqueFd listener, ForwardTable& forwards)
    : listener_(std::move(listener)), forwards_(forwards)
{
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        throw_errno("cannot ask the kernel for the seccomp notification sizes");
    // The kernel's structures may have grown past the ones compiled in: take the larger.
    request_.resize(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
    response_.resize(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
    // Never block the loop: a notification whose caller was killed in the meantime
    // makes the receive fail (ENOENT) instead of waiting.
    ::fcntl(listener_.get(), F_SETFL, ::fcntl(listener_.get(), F_GETFL) | O_NONBLOCK);
}

void HandoffServer::fill(std::vector<pollfd>& fds, uint32_t&)
{
    index_ = SIZE_MAX;
    if (listener_gone_)
        return;
    index_ = fds.size();
    fds.push_back({listener_.get(), POLLIN, 0});
}

size_t HandoffServer::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    if (poll_failed || index_ >= fds.size())
        return 0;
    const short events = fds[index_].revents;
    if (events & POLLIN) {
        size_t served = 0;
        // One receive per readiness check: poll says a notification is waiting, so
        // the receive cannot block; loop while more are, up to a bound per round.
        for (int i = 0; i < 64; ++i) {
            pollfd again{listener_.get(), POLLIN, 0};
            if (i > 0 && (::poll(&again, 1, 0) != 1 || !(again.revents & POLLIN)))
                break;
            if (!serve_one())
                break;
            ++served;
        }
        return served;
    }
    if (events & (POLLHUP | POLLERR)) {
        listener_gone_ = true;  // no process with the filter is left
        listener_.reset();
    }
    return 0;
}

bool HandoffServer::serve_one()
{
    std::fill(request_.begin(), request_.end(), 0);
    auto* request = reinterpret_cast<seccomp_notif*>(request_.data());
    if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, request) != 0)
        return false;  // ENOENT: the caller was killed meanwhile; EAGAIN: none after all
    std::fill(response_.begin(), response_.end(), 0);
    auto* response = reinterpret_cast<seccomp_notif_resp*>(response_.data());
    response->id = request->id;
    response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // unless handed off below
    const auto answer = [&] {
        // ENOENT: the caller is gone (killed, or its syscall interrupted): harmless.
        ::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, response);
        return true;
    };

    const pid_t pid = static_cast<pid_t>(request->pid);
    const int fd = static_cast<int>(request->data.args[0]);
    const uint64_t length = request->data.args[2];
    // The caller's sockaddr, read once. It only chooses the forward; the address
    // handed out is the forward's own, so a change after this read gains nothing.
    sockaddr_storage address{};
    iovec local{&address, std::min<size_t>(length, sizeof address)};
    iovec remote{reinterpret_cast<void*>(request->data.args[1]), local.iov_len};
    if (request->data.nr != SYS_bind || length < sizeof(sa_family_t) ||
        ::process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(local.iov_len))
        return answer();  // the kernel does the bind and reports any fault itself
    int family = address.ss_family;
    uint16_t port = 0;
    if (family == AF_INET && length >= sizeof(sockaddr_in))
        port = ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    else if (family == AF_INET6 && length >= sizeof(sockaddr_in6))
        port = ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    else
        return answer();
    if (port == 0)
        return answer();
    const int host_socket = forwards_.handoff_socket(family, port);
    // The pid may have been reused if the caller died after the receive: check the
    // notification is still live after opening the pidfd, which pins the process.
    UniqueFd pidfd = open_pidfd(pid);
    if (!pidfd || !still_valid(listener_.get(), request->id))
        return answer();
    UniqueFd copy(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)));
    if (!copy) {
        if (host_socket >= 0)
            log::error("warning: cannot take the socket that pid %d binds to port %u (pidfd_getfd: %s); "
                       "it binds inside instead",
                       static_cast<int>(pid), unsigned{port}, std::strerror(errno));
        return answer();
    }
    // Only a TCP stream socket of the same family gets the host socket; anything else
    // (UDP, MPTCP, a raw socket) binds inside, as it asked.
    if (socket_option(copy.get(), SOL_SOCKET, SO_DOMAIN) != family ||
        socket_option(copy.get(), SOL_SOCKET, SO_TYPE) != SOCK_STREAM ||
        socket_option(copy.get(), SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP)
        return answer();
    if (host_socket < 0) {
        // A TCP server binds this port inside. If it can be reached at 127.0.0.1:PORT
        // inside, where the relay connects, forwards to the port that wait for a
        // handoff are relayed to it instead. A bind to ::1 alone, say, cannot serve an
        // IPv4 forward: then the forward waits on for a bind it can be handed to.
        if (reachable_at_loopback4(copy.get(), address))
            forwards_.bound_inside(port);
        return answer();
    }
    // The caller's file status flags go with the socket it gets: a server that made
    // its socket non-blocking accepts in a loop until EAGAIN, one that did not blocks
    // in accept(). The host socket's open file is shared with portwrap's reference,
    // which portwrap never accepts on, so this costs portwrap nothing.
    const int flags = ::fcntl(copy.get(), F_GETFL);
    const int host_flags = ::fcntl(host_socket, F_GETFL);
    if (flags >= 0 && host_flags >= 0)
        ::fcntl(host_socket, F_SETFL, (host_flags & ~O_NONBLOCK) | (flags & O_NONBLOCK));
    // Until now the host socket was bound without SO_REUSEADDR and not listening
    // (host_endpoint::bind_tcp, forward_table.cpp's watch_holders); with SO_REUSEADDR
    // again, listen() succeeds despite connections of an earlier server still in
    // TIME_WAIT.
    int on = 1;
    ::setsockopt(host_socket, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    seccomp_notif_addfd add{};
    add.id = request->id;
    add.flags = SECCOMP_ADDFD_FLAG_SETFD;  // not FLAG_SEND: bind() would return the fd number, not 0
    add.srcfd = static_cast<uint32_t>(host_socket);
    add.newfd = static_cast<uint32_t>(fd);
    add.newfd_flags = close_on_exec(pid, fd) ? O_CLOEXEC : 0;
    if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0) {
        if (errno != ENOENT && errno != EINPROGRESS)
            log::error("warning: cannot give pid %d the host socket for port %u: %s", static_cast<int>(pid),
                       unsigned{port}, std::strerror(errno));
        return answer();
    }
    // It listens from the handoff on: a client that connects between the server's
    // bind() and its listen() waits in the backlog and is served (the server's
    // listen() only sets the backlog), as is one that --ready-fd's probe reported
    // ready for. Should this fail, the server's own listen() says why.
    ::listen(host_socket, SOMAXCONN);
    response->flags = 0;
    response->val = 0;
    response->error = 0;
    answer();
    const bool dual_stack = family == AF_INET6 &&
                            IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr) &&
                            socket_option(copy.get(), IPPROTO_IPV6, IPV6_V6ONLY) == 0;
    forwards_.handed_off(family, port, std::move(copy), address, std::move(pidfd), dual_stack);
    return true;
}

}  // namespace portwrap
