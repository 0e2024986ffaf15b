#include "relay.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "connector.h"
#include "error.h"
#include "log.h"

namespace portwrap {
namespace {

constexpr size_t kSpliceChunk = 1 << 20;       // ask for up to 1 MiB per splice()
constexpr int kMaxAcceptsPerRound = 64;
constexpr int64_t kAcceptPauseMs = 100;        // after running out of fds

int64_t now_ms()
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1'000'000;
}

// Closes with a reset (SO_LINGER 0) so that the peer learns the other side failed.
void reset_socket(UniqueFd& fd)
{
    if (!fd)
        return;
    linger abort_on_close{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    fd.reset();
}

}  // namespace

Relay::Relay(UniqueFd listener, uint16_t guest_port, int connector_socket)
    : listener_(std::move(listener)), connector_(connector_socket), guest_port_(guest_port)
{
}

Relay::~Relay() = default;

bool Relay::has_pending_output() const noexcept
{
    for (const Connection& c : connections_)
        if (c.downstream.in_pipe > 0 || c.upstream.in_pipe > 0)
            return true;
    return false;
}

void Relay::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    listener_index_ = SIZE_MAX;
    const int64_t now = now_ms();
    if (listener_ && now >= accept_paused_until_ms_) {
        listener_index_ = fds.size();
        fds.push_back({listener_.get(), POLLIN, 0});
    } else if (listener_) {
        timeout_ms = std::min<uint32_t>(timeout_ms, static_cast<uint32_t>(accept_paused_until_ms_ - now));
    }
    for (Connection& c : connections_) {
        short host_events = 0, guest_events = 0;
        if (c.connecting) {
            guest_events = POLLOUT;
        } else {
            // Read only into an empty pipe, write only from a full one. pump() then
            // alternates until one side blocks. Polling for input while the pipe
            // still holds data could spin: splice() cannot tell "socket empty" from
            // "pipe full", both are EAGAIN.
            if (!c.upstream.end_of_input && c.upstream.in_pipe == 0)
                host_events |= POLLIN;
            if (!c.downstream.end_of_input && c.downstream.in_pipe == 0)
                guest_events |= POLLIN;
            if (c.upstream.in_pipe > 0)
                guest_events |= POLLOUT;
            if (c.downstream.in_pipe > 0)
                host_events |= POLLOUT;
        }
        c.host_index = c.guest_index = SIZE_MAX;
        if (host_events) {
            c.host_index = fds.size();
            fds.push_back({c.host.get(), host_events, 0});
        }
        if (guest_events) {
            c.guest_index = fds.size();
            fds.push_back({c.guest.get(), guest_events, 0});
        }
    }
}

size_t Relay::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    if (poll_failed)
        return 0;
    size_t moved = 0;
    for (auto it = connections_.begin(); it != connections_.end();) {
        const short host_events = it->host_index < fds.size() ? fds[it->host_index].revents : 0;
        const short guest_events = it->guest_index < fds.size() ? fds[it->guest_index].revents : 0;
        if ((host_events || guest_events) && !service(*it, guest_events, moved))
            it = connections_.erase(it);
        else
            ++it;
    }
    if (listener_index_ < fds.size() && (fds[listener_index_].revents & POLLIN))
        accept_connections();
    return moved;
}

void Relay::accept_connections()
{
    for (int i = 0; i < kMaxAcceptsPerRound; ++i) {
        UniqueFd host(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!host) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log::error("cannot accept a connection: %s; pausing for %lld ms", std::strerror(errno),
                           static_cast<long long>(kAcceptPauseMs));
                accept_paused_until_ms_ = now_ms() + kAcceptPauseMs;
            }
            return;  // EAGAIN: all accepted; anything else: the client went away
        }
        UniqueFd guest = connector::request_connection(connector_, guest_port_);
        if (!guest) {
            log::info("cannot connect to 127.0.0.1:%u inside the namespace: %s", guest_port_, std::strerror(errno));
            reset_socket(host);
            continue;
        }
        Connection& c = connections_.emplace_back();
        c.host = std::move(host);
        c.guest = std::move(guest);
        c.upstream.from = c.host.get();
        c.upstream.to = c.guest.get();
        c.downstream.from = c.guest.get();
        c.downstream.to = c.host.get();
        if (!open_pipe(c.upstream) || !open_pipe(c.downstream)) {
            log::error("cannot create a pipe for a relayed connection: %s", std::strerror(errno));
            reset_socket(c.host);
            connections_.pop_back();
        }
    }
}

bool Relay::open_pipe(Direction& direction)
{
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return false;
    direction.pipe_read.reset(fds[0]);
    direction.pipe_write.reset(fds[1]);
    return true;
}

long Relay::pump(Direction& d)
{
    long moved = 0;
    for (;;) {
        bool progress = false;
        if (!d.end_of_input) {
            ssize_t in = ::splice(d.from, nullptr, d.pipe_write.get(), nullptr, kSpliceChunk,
                                  SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (in > 0) {
                d.in_pipe += static_cast<size_t>(in);
                progress = true;
            } else if (in == 0) {
                d.end_of_input = true;
                progress = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return -1;
            }
        }
        if (d.in_pipe > 0) {
            ssize_t out = ::splice(d.pipe_read.get(), nullptr, d.to, nullptr, d.in_pipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (out > 0) {
                d.in_pipe -= static_cast<size_t>(out);
                moved += out;
                progress = true;
            } else if (out < 0 && errno != EAGAIN && errno != EINTR) {
                return -1;
            }
        }
        if (d.end_of_input && d.in_pipe == 0 && !d.shut_down) {
            ::shutdown(d.to, SHUT_WR);  // pass the half-close on
            d.shut_down = true;
        }
        if (!progress)
            return moved;
    }
}

bool Relay::service(Connection& c, short guest_events, size_t& moved)
{
    if (c.connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(c.guest.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
            error = errno;
        if (error == EINPROGRESS || error == EALREADY || (error == 0 && !(guest_events & (POLLOUT | POLLERR | POLLHUP))))
            return true;
        if (error != 0) {
            log::info("connection to 127.0.0.1:%u inside the namespace failed: %s", guest_port_, std::strerror(error));
            reset_socket(c.host);
            return false;
        }
        c.connecting = false;
    }
    long up = pump(c.upstream);
    long down = up < 0 ? 0 : pump(c.downstream);
    if (up < 0 || down < 0) {
        // A reset or another error on either side: reset both, as TCP would end-to-end.
        reset_socket(c.host);
        reset_socket(c.guest);
        return false;
    }
    moved += static_cast<size_t>(up + down);
    return !(c.upstream.done() && c.downstream.done());
}

}  // namespace portwrap
