#include "slirp_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "clock.h"
#include "error.h"
#include "guest_network.h"
#include "host_endpoint.h"
#include "log.h"
#include "loopback_guard.h"

namespace portwrap {
namespace {

// An Ethernet frame of up to 14 + 65520 bytes: room for any MTU tap0 could be given (guest_network.h sets 21885).
constexpr size_t kFrameBufferSize = 65536;
// Frames fed to libslirp per wake-up before its sockets get a turn again.
constexpr size_t kMaxFramesPerDispatch = 128;
// How long the forwarded ports' listeners sit out of poll() after running out of fds.
constexpr int64_t kAcceptPauseMs = 100;
// The wait libslirp allows when it has nothing timed to do (see fill()).
constexpr uint32_t kSlirpIdleCapMs = 1000;

// The fds libslirp polls right now.
std::vector<int> polled_fds(Slirp* slirp)
{
    std::vector<int> fds;
    uint32_t unused_timeout = UINT32_MAX;
    auto collect = [](int fd, int, void* opaque) -> int {
        static_cast<std::vector<int>*>(opaque)->push_back(fd);
        return -1;
    };
    slirp_pollfds_fill(slirp, &unused_timeout, collect, &fds);
    return fds;
}

// True if this process cannot open another fd. libslirp's accept() failing with
// EMFILE leaves no trace but the listener staying readable, so probe for it.
bool out_of_fds(int any_open_fd)
{
    int probe = ::fcntl(any_open_fd, F_DUPFD_CLOEXEC, 0);
    if (probe >= 0) {
        ::close(probe);
        return false;
    }
    return errno == EMFILE || errno == ENFILE;
}

}  // namespace

SlirpSession::SlirpSession(UniqueFd tap, bool allow_host_loopback)
    : tap_(std::move(tap)), guard_loopback_(!allow_host_loopback), frame_buffer_(new uint8_t[kFrameBufferSize])
{
    namespace net = guest_network;
    SlirpConfig config{};
    config.version = 1;
    config.restricted = 0;  // the command may reach the outside world
    config.in_enabled = true;
    config.vnetwork = net::address(net::kNetwork);
    config.vnetmask = net::address(net::kNetmask);
    config.vhost = net::address(net::kGateway);
    config.vdhcp_start = net::address(net::kDhcpStart);
    config.vnameserver = net::address(net::kNameserver);
    config.in6_enabled = true;
    config.vprefix_addr6 = net::address6(net::kNetwork6);
    config.vprefix_len = net::kPrefixLength6;
    config.vhost6 = net::address6(net::kGateway6);
    config.vnameserver6 = net::address6(net::kNameserver6);
    config.if_mtu = net::kMtu;
    config.if_mru = net::kMtu;
    config.disable_host_loopback = !allow_host_loopback;
    config.enable_emu = false;  // protocol "emulation" is where libslirp's CVEs lived

    static const SlirpCb callbacks = {
        .send_packet = send_packet,
        .guest_error = guest_error,
        .clock_get_ns = clock_get_ns,
        .timer_new = timer_new,
        .timer_free = timer_free,
        .timer_mod = timer_mod,
        .register_poll_fd = register_poll_fd,
        .unregister_poll_fd = unregister_poll_fd,
        .notify = notify,
        .init_completed = nullptr,
        .timer_new_opaque = nullptr,
    };
    slirp_ = slirp_new(&config, &callbacks, this);
    if (!slirp_)
        throw Error("cannot start libslirp (slirp_new failed)");
}

SlirpSession::~SlirpSession()
{
    slirp_cleanup(slirp_);
    if (loopback_drops_ > 0)
        log::info("dropped %llu packet(s) from the namespace to the host's loopback",
                  static_cast<unsigned long long>(loopback_drops_));
}

std::string SlirpSession::add_forward(const forward::Spec& spec)
{
    const host_endpoint::SocketAddress host = host_endpoint::host_address(spec);
    // libslirp forwards within one address family: an IPv6 host side reaches the
    // guest's IPv6 address.
    socklen_t guest_length = 0;
    const sockaddr_storage guest = guest_network::guest_socket_address(spec.ipv6, spec.guest_port, &guest_length);
    // [::] means IPv6 only, as with the relay.
    const int flags = spec.ipv6 ? SLIRP_HOSTFWD_V6ONLY : 0;

    // libslirp does not say which socket it made: it is the one that is new.
    const std::vector<int> before = polled_fds(slirp_);
    if (!spec.unix_path.empty())
        host_endpoint::make_way_for_unix_socket(spec.unix_path);
    int added;
    errno = 0;
    {
        std::optional<host_endpoint::OwnerOnlyUmask> owner_only;
        if (!spec.unix_path.empty())
            owner_only.emplace();
        added = slirp_add_hostxfwd(slirp_, host.get(), host.length, reinterpret_cast<const sockaddr*>(&guest),
                                   guest_length, flags);
    }
    if (added != 0) {
        int err = errno ? errno : EADDRINUSE;  // libslirp keeps bind()'s errno; guard anyway
        throw Error(host_endpoint::bind_failure(forward::host_side(spec), spec, err), kExitSetupFailure, err);
    }
    int listener = -1;
    for (int fd : polled_fds(slirp_))
        if (std::find(before.begin(), before.end(), fd) == before.end())
            listener = fd;
    const std::string where = listener >= 0 ? host_endpoint::bound_side(listener) : forward::host_side(spec);
    // libslirp 4.7 listens with a backlog of 1, so a browser's burst of connects falls
    // into SYN retries (a 1 s stall each). listen() on a listening socket just sets
    // the new backlog.
    if (listener >= 0 && ::listen(listener, SOMAXCONN) == 0)
        listeners_.push_back({listener, SIZE_MAX});
    else
        log::info("could not raise the listen backlog of %s; bursts of connections may stall", where.c_str());
    log::info("forwarding %s to %s port %u", where.c_str(),
              spec.ipv6 ? guest_network::kGuestAddress6 : guest_network::kGuestAddress, spec.guest_port);
    return where;
}

void SlirpSession::remove_forward(const forward::Spec& spec)
{
    const host_endpoint::SocketAddress host = host_endpoint::host_address(spec);
    const std::string where = forward::host_side(spec);
    std::erase_if(listeners_, [&](const Listener& l) { return host_endpoint::bound_side(l.fd) == where; });
    if (slirp_remove_hostxfwd(slirp_, host.get(), host.length, spec.ipv6 ? SLIRP_HOSTFWD_V6ONLY : 0) != 0)
        log::info("libslirp found no forward on %s to remove", where.c_str());
}

void SlirpSession::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    tap_index_ = fds.size();
    fds.push_back({tap_.get(), POLLIN, 0});
    poll_fds_ = &fds;
    wants_output_ = false;
    for (Listener& listener : listeners_)
        listener.index = SIZE_MAX;
    const int64_t pause_left_ms = listeners_paused_until_ms_ - monotonic_ms();
    listeners_paused_ = pause_left_ms > 0;
    const uint32_t wanted_ms = timeout_ms;
    slirp_pollfds_fill(slirp_, &timeout_ms, add_poll, this);
    poll_fds_ = nullptr;
    // libslirp caps every wait at 1 s even when none of its timers runs, and lowers
    // it to 2 ms or 499 ms when one does (slirp_update_timeout). An exact 1 s is that
    // bare cap: keep the longer wait, so an idle portwrap does not wake up each second.
    if (timeout_ms == kSlirpIdleCapMs && wanted_ms > kSlirpIdleCapMs)
        timeout_ms = wanted_ms;
    timeout_ms = std::min(timeout_ms, ms_until_next_timer());
    if (listeners_paused_)
        timeout_ms = std::min(timeout_ms, static_cast<uint32_t>(pause_left_ms));
}

size_t SlirpSession::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    poll_fds_ = const_cast<std::vector<pollfd>*>(&fds);
    socket_events_ = 0;
    slirp_pollfds_poll(slirp_, poll_failed ? 1 : 0, get_revents, this);
    poll_fds_ = nullptr;
    if (!poll_failed)
        pause_listeners_if_out_of_fds(fds);
    size_t frames = 0;
    if (!poll_failed && (fds[tap_index_].revents & POLLIN))
        frames = read_tap_frames();
    run_due_timers();
    // Bytes written to or read from a host socket are progress too: a drain that
    // waits on a slow host client sees it (event_loop.cpp).
    return frames + socket_events_;
}

void SlirpSession::pause_listeners_if_out_of_fds(const std::vector<pollfd>& fds)
{
    bool connection_waiting = false;
    for (const Listener& listener : listeners_)
        connection_waiting |= listener.index < fds.size() && (fds[listener.index].revents & POLLIN);
    // Without this pause, poll() would return at once, over and over (a busy loop).
    if (!connection_waiting || !out_of_fds(tap_.get()))
        return;
    const int64_t now = monotonic_ms();
    if (now > listeners_paused_until_ms_ + 1000)  // once per episode, not every 100 ms
        log::error("cannot accept a connection: %s; pausing for %lld ms", std::strerror(EMFILE),
                   static_cast<long long>(kAcceptPauseMs));
    listeners_paused_until_ms_ = now + kAcceptPauseMs;
}

size_t SlirpSession::read_tap_frames()
{
    // Drain in a batch: one poll() wake-up per frame would cost a syscall round trip
    // for every segment of a bulk transfer. Returns the unicast frames among them.
    size_t frames = 0, progress = 0;
    while (frames < kMaxFramesPerDispatch) {
        ssize_t length = ::read(tap_.get(), frame_buffer_.get(), kFrameBufferSize);
        if (length < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                log::info("reading from tap0 failed: %s", std::strerror(errno));
            break;
        }
        if (length == 0)
            break;
        ++frames;
        // A frame to a multicast or broadcast MAC (MLD reports, DAD, ARP requests) is
        // the namespace kernel's own upkeep, never a TCP segment or a forwarded
        // datagram: not progress that the exit drain waits out (event_loop.cpp). An MLD
        // report sent as tap0 comes up held a short run up to 50 ms at its exit.
        if (length > 0 && !(frame_buffer_[0] & 1))
            ++progress;
        if (guard_loopback_ && !passes_loopback_guard(static_cast<size_t>(length)))
            continue;
        slirp_input(slirp_, frame_buffer_.get(), static_cast<int>(length));
    }
    return progress;
}

bool SlirpSession::passes_loopback_guard(size_t length)
{
    const auto judgement = loopback_guard::judge({frame_buffer_.get(), length});
    if (judgement.verdict == loopback_guard::Verdict::Pass)
        return true;
    // A truncated IP packet is dropped as libslirp would drop it: it leads nowhere.
    if (judgement.verdict == loopback_guard::Verdict::Loopback && loopback_drops_++ == 0)
        log::info("dropped a packet from the namespace to %s: the host's loopback is closed to the "
                  "command (--allow-host-loopback opens it)",
                  loopback_guard::describe(judgement).c_str());
    return false;
}

void SlirpSession::run_due_timers()
{
    // A callback may re-arm or free timers, so look the list up afresh after each one.
    for (bool fired = true; fired;) {
        fired = false;
        const int64_t now_ms = monotonic_ms();
        for (auto& timer : timers_) {
            if (timer->expire_ms >= 0 && timer->expire_ms <= now_ms) {
                timer->expire_ms = -1;
                timer->callback(timer->opaque);
                fired = true;
                break;
            }
        }
    }
}

uint32_t SlirpSession::ms_until_next_timer() const
{
    int64_t next = -1;
    for (const auto& timer : timers_)
        if (timer->expire_ms >= 0 && (next < 0 || timer->expire_ms < next))
            next = timer->expire_ms;
    if (next < 0)
        return UINT32_MAX;
    int64_t wait = next - monotonic_ms();
    return wait <= 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(wait, UINT32_MAX - 1));
}

ssize_t SlirpSession::send_packet(const void* frame, size_t length, void* self)
{
    auto* session = static_cast<SlirpSession*>(self);
    ssize_t written;
    do {
        written = ::write(session->tap_.get(), frame, length);
    } while (written < 0 && errno == EINTR);
    // A full TAP queue drops the frame, as a real link would; TCP retransmits it.
    if (written < 0 && errno != EAGAIN)
        log::info("writing to tap0 failed: %s", std::strerror(errno));
    return static_cast<ssize_t>(length);
}

void SlirpSession::guest_error(const char* message, void*)
{
    log::info("libslirp: guest error: %s", message);
}

int64_t SlirpSession::clock_get_ns(void*)
{
    return monotonic_ns();
}

void* SlirpSession::timer_new(SlirpTimerCb callback, void* callback_opaque, void* self)
{
    auto* session = static_cast<SlirpSession*>(self);
    session->timers_.push_back(std::make_unique<Timer>(Timer{callback, callback_opaque, -1}));
    return session->timers_.back().get();
}

void SlirpSession::timer_free(void* timer, void* self)
{
    auto& timers = static_cast<SlirpSession*>(self)->timers_;
    std::erase_if(timers, [timer](const auto& owned) { return owned.get() == timer; });
}

void SlirpSession::timer_mod(void* timer, int64_t expire_ms, void*)
{
    static_cast<Timer*>(timer)->expire_ms = expire_ms;
}

void SlirpSession::register_poll_fd(int, void*) {}    // the fd set is rebuilt on every fill()
void SlirpSession::unregister_poll_fd(int, void*) {}
void SlirpSession::notify(void*) {}                   // single-threaded: the next fill() sees it

int SlirpSession::add_poll(int fd, int events, void* self)
{
    auto* session = static_cast<SlirpSession*>(self);
    short wanted = 0;
    if (events & SLIRP_POLL_IN)
        wanted |= POLLIN;
    if (events & SLIRP_POLL_OUT) {
        wanted |= POLLOUT;
        session->wants_output_ = true;
    }
    if (events & SLIRP_POLL_PRI)
        wanted |= POLLPRI;
    for (Listener& listener : session->listeners_) {
        if (listener.fd != fd)
            continue;
        if (session->listeners_paused_)
            return -1;  // libslirp asks get_revents(-1) later: "nothing happened"
        listener.index = session->poll_fds_->size();
    }
    session->poll_fds_->push_back({fd, wanted, 0});
    return static_cast<int>(session->poll_fds_->size() - 1);
}

int SlirpSession::get_revents(int index, void* self)
{
    auto* session = static_cast<SlirpSession*>(self);
    if (index < 0 || static_cast<size_t>(index) >= session->poll_fds_->size())
        return 0;
    short got = (*session->poll_fds_)[static_cast<size_t>(index)].revents;
    if (got != 0)
        ++session->socket_events_;
    int events = 0;
    if (got & POLLIN)
        events |= SLIRP_POLL_IN;
    if (got & POLLOUT)
        events |= SLIRP_POLL_OUT;
    if (got & POLLPRI)
        events |= SLIRP_POLL_PRI;
    if (got & POLLERR)
        events |= SLIRP_POLL_ERR;
    if (got & POLLHUP)
        events |= SLIRP_POLL_HUP;
    return events;
}

}  // namespace portwrap
