#include "relay.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "clock.h"
#include "connector.h"
#include "error.h"
#include "host_endpoint.h"
#include "log.h"

namespace portwrap {
namespace {

constexpr int kMaxAcceptsPerRound = 64;
constexpr int64_t kAcceptPauseMs = 100;        // after running out of fds
constexpr int64_t kPipeRetryMs = 100;          // a direction that found no pipe tries again
constexpr size_t kRoundBudget = 4 << 20;       // bytes per direction per round, for fairness
constexpr int kEventsPerRound = 1024;
constexpr uint64_t kGuestTag = 1;  // in epoll_event.data: the guest socket (else the host's)

// Closes with a reset (SO_LINGER 0) so that the peer learns the other side failed.
void reset_socket(UniqueFd& fd)
{
    if (!fd)
        return;
    linger abort_on_close{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    fd.reset();
}

// Errors that say "no fds (or kernel memory) for one more connection right now".
bool out_of_resources(int error)
{
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM || error == ENOSPC;
}

int socket_error(int fd)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        return errno;
    return error;
}

}  // namespace

Relay::Relay(UniqueFd listener, uint16_t guest_port, Connector& connector, PipePool& pipes, size_t max_connections)
    : Relay(std::move(listener),
            Target{[&connector, guest_port] { return connector.open(guest_port); },
                   "127.0.0.1:" + std::to_string(guest_port) + " inside the namespace"},
            pipes, max_connections)
{
}

Relay::Relay(UniqueFd listener, Target target, PipePool& pipes, size_t max_connections)
    : listener_(std::move(listener)),
      pipes_(pipes),
      max_connections_(max_connections),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      target_(std::move(target)),
      events_(kEventsPerRound)
{
    if (!epoll_)
        throw_errno("cannot create an epoll instance for the relay");
    // Accepted sockets inherit TCP_NODELAY; the connector sets it on the guest side.
    int on = 1;
    ::setsockopt(listener_.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

Relay::~Relay()
{
    for (Connection& c : connections_)
        for (Direction* d : {&c.upstream, &c.downstream})
            pipes_.discard(d->pipe);
}

std::string Relay::target_name() const
{
    return target_.description;
}

namespace {

// A non-blocking connect to `target` from portwrap's own namespace. Invalid with
// errno on failure; in progress (EINPROGRESS) counts as made.
UniqueFd connect_directly(const host_endpoint::SocketAddress& target)
{
    UniqueFd socket(::socket(target.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket)
        return socket;
    int on = 1;
    ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (::connect(socket.get(), target.get(), target.length) != 0 && errno != EINPROGRESS) {
        const int error = errno;
        socket.reset();
        errno = error;
    }
    return socket;
}

}  // namespace

Relay::Target Relay::connect_to(const host_endpoint::SocketAddress& target, std::string description)
{
    return Target{[target] { return connect_directly(target); }, std::move(description)};
}

void Relay::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    listener_index_ = SIZE_MAX;
    const int64_t now = monotonic_ms();
    if (listener_ && now >= accept_paused_until_ms_) {
        listener_index_ = fds.size();
        fds.push_back({listener_.get(), POLLIN, 0});
    } else if (listener_) {
        timeout_ms = std::min<uint32_t>(timeout_ms, static_cast<uint32_t>(accept_paused_until_ms_ - now));
    }
    // Every connection's sockets are in the epoll instance, edge-triggered: one fd
    // here stands for all of them.
    epoll_index_ = fds.size();
    fds.push_back({epoll_.get(), POLLIN, 0});
    if (!again_.empty())
        timeout_ms = 0;
    if (!starved_.empty()) {
        const int64_t wait = pipes_.spare() > 0 ? 0 : std::max<int64_t>(0, pipe_retry_at_ms_ - now);
        timeout_ms = std::min<uint32_t>(timeout_ms, static_cast<uint32_t>(wait));
    }
}

size_t Relay::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    if (poll_failed)
        return 0;
    size_t moved = 0;
    if (!again_.empty()) {
        // Stopped at the round's budget last time: no new edge will come for what is
        // still waiting in their sockets.
        std::vector<Connection*> again;
        again.swap(again_);
        for (Connection* c : again)
            c->again = false;
        for (Connection* c : again)
            if (!c->closed)
                service(*c, 0, false, moved);
    }
    if (epoll_index_ < fds.size() && (fds[epoll_index_].revents & POLLIN)) {
        const int n = ::epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), 0);
        for (int i = 0; i < n; ++i) {
            const epoll_event& event = events_[static_cast<size_t>(i)];
            auto* c = reinterpret_cast<Connection*>(static_cast<uintptr_t>(event.data.u64 & ~kGuestTag));
            if (!c->closed)
                service(*c, event.events, (event.data.u64 & kGuestTag) != 0, moved);
        }
    }
    if (!starved_.empty() && (pipes_.spare() > 0 || monotonic_ms() >= pipe_retry_at_ms_))
        retry_starved(moved);
    if (listener_index_ < fds.size() && (fds[listener_index_].revents & POLLIN))
        accept_connections();
    for (Connection* c : closed_)
        connections_.erase(c->self);
    closed_.clear();
    return moved;
}

void Relay::pause_accepting(const char* what, int error)
{
    log::error("cannot %s: %s; pausing new connections for %lld ms", what, std::strerror(error),
               static_cast<long long>(kAcceptPauseMs));
    accept_paused_until_ms_ = monotonic_ms() + kAcceptPauseMs;
}

void Relay::refuse(UniqueFd& host)
{
    reset_socket(host);  // the client sees a reset at once, instead of waiting in the backlog
    if (told_limit_)
        return;
    told_limit_ = true;
    std::string where = "?";
    try {
        where = host_endpoint::bound_side(listener_.get());
    } catch (const Error&) {
    }
    log::info("%s: %zu connections are open, the --max-connections limit: resetting new ones until some "
              "end (said once per forward)",
              where.c_str(), open_);
}

void Relay::accept_connections()
{
    for (int i = 0; i < kMaxAcceptsPerRound; ++i) {
        UniqueFd host(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!host) {
            if (out_of_resources(errno))
                pause_accepting("accept a connection", errno);
            return;  // EAGAIN: all accepted; anything else: the client went away
        }
        if (max_connections_ != 0 && open_ >= max_connections_) {
            refuse(host);
            continue;
        }
        // Everything one connection needs besides `host`: the socket inside and two
        // epoll entries (pipes come later, only while data moves). When any of it runs
        // out, reset this connection and leave the rest in the backlog for a while, as
        // when accept() itself fails.
        Connection& c = connections_.emplace_back();
        c.self = std::prev(connections_.end());
        c.host = std::move(host);
        const auto give_up = [&](const char* what, int error) {
            reset_socket(c.host);
            connections_.pop_back();
            if (out_of_resources(error)) {
                pause_accepting(what, error);
                return true;
            }
            log::info("cannot %s: %s", what, std::strerror(error));
            return false;
        };
        c.guest = target_.open();
        if (!c.guest) {
            const int error = errno;
            const std::string what = "connect to " + target_name();
            if (give_up(what.c_str(), error))
                return;
            continue;
        }
        c.upstream.from = c.host.get();
        c.upstream.to = c.guest.get();
        c.downstream.from = c.guest.get();
        c.downstream.to = c.host.get();
        epoll_event event{};
        event.events = EPOLLIN | EPOLLOUT | EPOLLET;
        event.data.u64 = reinterpret_cast<uintptr_t>(&c);
        epoll_event guest_event = event;
        guest_event.data.u64 |= kGuestTag;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.host.get(), &event) != 0 ||
            ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.guest.get(), &guest_event) != 0) {
            const int error = errno;
            ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.host.get(), nullptr);
            reset_socket(c.guest);
            if (give_up("watch a relayed connection (epoll)", error))
                return;
            continue;
        }
        ++open_;
    }
}

Relay::Pump Relay::pump(Direction& d, size_t budget, size_t& moved)
{
    // Take a pipe only when there may be input to move; give it back once it is empty.
    if (!d.end_of_input && !d.pipe.valid()) {
        const int error = pipes_.take(d.pipe) ? 0 : errno;
        if (error != 0) {
            pipe_error_ = error;
            return out_of_resources(error) ? Pump::NoPipe : Pump::Failed;
        }
    }
    size_t total = 0;
    Pump result;
    for (;;) {
        bool progress = false;
        // A pipe holds at most `capacity` bytes (splice() from TCP fills whole pages).
        if (!d.end_of_input && d.in_pipe < d.pipe.capacity) {
            ssize_t in = ::splice(d.from, nullptr, d.pipe.write.get(), nullptr, d.pipe.capacity - d.in_pipe,
                                  SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (in > 0) {
                d.in_pipe += static_cast<size_t>(in);
                progress = true;
                // A busy direction: it filled its pipe. It may get a small one again
                // from the pool later; it stops trying once growing has failed.
                if (d.in_pipe == d.pipe.capacity && d.may_grow && !d.pipe.big)
                    d.may_grow = pipes_.grow(d.pipe);
            } else if (in == 0) {
                d.end_of_input = true;
                progress = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return Pump::Failed;
            }
        }
        if (d.in_pipe > 0) {
            ssize_t out = ::splice(d.pipe.read.get(), nullptr, d.to, nullptr, d.in_pipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (out > 0) {
                d.in_pipe -= static_cast<size_t>(out);
                total += static_cast<size_t>(out);
                progress = true;
            } else if (out < 0 && errno != EAGAIN && errno != EINTR) {
                return Pump::Failed;
            }
        }
        if (d.end_of_input && d.in_pipe == 0 && !d.shut_down) {
            ::shutdown(d.to, SHUT_WR);  // pass the half-close on
            d.shut_down = true;
        }
        if (!progress || total >= budget) {
            moved += total;
            result = progress ? Pump::Budget : total > 0 ? Pump::Progress : Pump::Idle;
            break;
        }
    }
    if (d.in_pipe == 0)
        pipes_.give_back(d.pipe);
    return result;
}

void Relay::wait_for_pipe(Connection& c, int error)
{
    if (!told_pipe_shortage_) {
        told_pipe_shortage_ = true;
        log::error("cannot create a pipe for a relayed connection: %s; its data waits (trying again every %lld ms)",
                   std::strerror(error), static_cast<long long>(kPipeRetryMs));
    }
    if (starved_.empty())
        pipe_retry_at_ms_ = monotonic_ms() + kPipeRetryMs;
    if (!c.starved) {
        c.starved = true;
        starved_.push_back(&c);
    }
}

void Relay::retry_starved(size_t& moved)
{
    std::vector<Connection*> starved;
    starved.swap(starved_);
    for (Connection* c : starved)
        c->starved = false;
    for (Connection* c : starved)
        if (!c->closed)
            service(*c, 0, false, moved);
    if (starved_.empty())
        told_pipe_shortage_ = false;
    else
        pipe_retry_at_ms_ = monotonic_ms() + kPipeRetryMs;
}

void Relay::service(Connection& c, uint32_t events, bool guest_socket, size_t& moved)
{
    if (c.connecting) {
        // Until the guest socket reports the end of its connect, nothing can move.
        if (!guest_socket || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        const int error = socket_error(c.guest.get());
        if (error == EINPROGRESS || error == EALREADY)
            return;
        if (error != 0) {
            log::info("connection to %s failed: %s", target_name().c_str(), std::strerror(error));
            close_connection(c, true);
            return;
        }
        c.connecting = false;
        events = 0;  // what arrived meanwhile on either side: pump both directions
    }
    // Edge-triggered: a direction is pumped until both of its ends would block (or
    // the budget is used up), so no readiness is left unseen. An event concerns a
    // direction when its socket is that direction's input, or its output while the
    // pipe holds data (epoll reports EPOLLOUT with every edge of a writable socket).
    const int fd = guest_socket ? c.guest.get() : c.host.get();
    const auto concerns = [&](const Direction& d) {
        return events == 0 || (fd == d.from && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) ||
               (fd == d.to && d.in_pipe > 0 && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)));
    };
    const Pump up = concerns(c.upstream) ? pump(c.upstream, kRoundBudget, moved) : Pump::Idle;
    const Pump down = up == Pump::Failed      ? Pump::Failed
                      : concerns(c.downstream) ? pump(c.downstream, kRoundBudget, moved)
                                               : Pump::Idle;
    if (up == Pump::Failed || down == Pump::Failed ||
        // An error (a reset) on a socket neither direction is using right now.
        ((events & EPOLLERR) && up == Pump::Idle && down == Pump::Idle &&
         (socket_error(c.host.get()) != 0 || socket_error(c.guest.get()) != 0))) {
        // A reset or another error on either side: reset both, as TCP would end-to-end.
        close_connection(c, true);
        return;
    }
    if (c.upstream.done() && c.downstream.done()) {
        close_connection(c, false);
        return;
    }
    const bool holding = c.upstream.in_pipe > 0 || c.downstream.in_pipe > 0;
    if (holding != c.holding_data) {
        c.holding_data = holding;
        holding ? ++connections_holding_data_ : --connections_holding_data_;
    }
    if ((up == Pump::Budget || down == Pump::Budget) && !c.again) {
        c.again = true;
        again_.push_back(&c);
    }
    if (up == Pump::NoPipe || down == Pump::NoPipe)
        wait_for_pipe(c, pipe_error_);
}

void Relay::close_connection(Connection& c, bool reset) noexcept
{
    if (c.closed)
        return;
    // Closing the host socket (ours alone) removes it from the epoll set. The guest
    // socket is removed explicitly: epoll watches the open file, which the
    // connector's copy may still keep alive for a moment.
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.guest.get(), nullptr);
    if (reset) {
        reset_socket(c.host);
        reset_socket(c.guest);
    }
    c.host.reset();
    c.guest.reset();
    c.closed = true;
    --open_;
    // A pipe still holding bytes is closed: they must never reach another connection.
    for (Direction* d : {&c.upstream, &c.downstream})
        d->in_pipe == 0 ? pipes_.give_back(d->pipe) : pipes_.discard(d->pipe);
    if (c.holding_data) {
        c.holding_data = false;
        --connections_holding_data_;
    }
    if (c.again) {
        c.again = false;
        std::erase(again_, &c);
    }
    if (c.starved) {
        c.starved = false;
        std::erase(starved_, &c);
    }
    closed_.push_back(&c);
}

}  // namespace portwrap
