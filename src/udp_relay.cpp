#include "udp_relay.h"

#include <cerrno>
#include <cstring>

#include "clock.h"
#include "connector.h"
#include "log.h"

namespace portwrap {
namespace {

constexpr size_t kMaxDatagram = 65536;
constexpr int kMaxDatagramsPerRound = 64;  // then the other sources get a turn

}  // namespace

UdpRelay::UdpRelay(UniqueFd host_socket, uint16_t guest_port, Connector& connector, int64_t idle_ms)
    : host_(std::move(host_socket)), guest_port_(guest_port), connector_(connector), idle_ms_(idle_ms),
      buffer_(new uint8_t[kMaxDatagram])
{
}

void UdpRelay::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    host_index_ = fds.size();
    fds.push_back({host_.get(), POLLIN, 0});
    if (sessions_.empty())
        return;
    // The least recently used session is the next to expire.
    const int64_t expires = sessions_.back().last_used_ms + idle_ms_;
    const int64_t now = monotonic_ms();
    timeout_ms = std::min<uint32_t>(timeout_ms, expires <= now ? 0 : static_cast<uint32_t>(expires - now));
    for (Session& session : sessions_) {
        session.index = fds.size();
        fds.push_back({session.guest.get(), POLLIN, 0});
    }
}

size_t UdpRelay::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    size_t moved = 0;
    if (!poll_failed) {
        for (Session& session : sessions_)
            if (session.index < fds.size() && fds[session.index].revents)
                moved += from_guest(session);
        if (host_index_ < fds.size() && fds[host_index_].revents)
            moved += from_host();
    }
    const int64_t now = monotonic_ms();
    while (!sessions_.empty() && now - sessions_.back().last_used_ms >= idle_ms_)
        sessions_.pop_back();
    return moved;
}

size_t UdpRelay::from_host()
{
    size_t moved = 0;
    for (int i = 0; i < kMaxDatagramsPerRound; ++i) {
        sockaddr_storage client{};
        socklen_t length = sizeof client;
        ssize_t got = ::recvfrom(host_.get(), buffer_.get(), kMaxDatagram, 0, reinterpret_cast<sockaddr*>(&client),
                                 &length);
        if (got < 0)
            break;  // EAGAIN: all read; an ICMP error from a client: nothing to do
        Session* session = session_for(client, length, monotonic_ms());
        if (!session)
            continue;  // no socket inside (logged): the datagram is dropped, as UDP may
        // A full socket buffer or a refusal inside drops the datagram, as a network would.
        if (::send(session->guest.get(), buffer_.get(), static_cast<size_t>(got), MSG_DONTWAIT) > 0)
            moved += static_cast<size_t>(got);
    }
    return moved;
}

size_t UdpRelay::from_guest(Session& session)
{
    size_t moved = 0;
    for (int i = 0; i < kMaxDatagramsPerRound; ++i) {
        ssize_t got = ::recv(session.guest.get(), buffer_.get(), kMaxDatagram, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            continue;  // ECONNREFUSED: nothing listens inside yet; read on
        }
        ::sendto(host_.get(), buffer_.get(), static_cast<size_t>(got), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(&session.client), session.client_length);
        session.last_used_ms = monotonic_ms();
        moved += static_cast<size_t>(got);
    }
    return moved;
}

UdpRelay::Session* UdpRelay::session_for(const sockaddr_storage& client, socklen_t length, int64_t now)
{
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        if (it->client_length == length && std::memcmp(&it->client, &client, length) == 0) {
            it->last_used_ms = now;
            sessions_.splice(sessions_.begin(), sessions_, it);  // most recently used first
            return &sessions_.front();
        }
    }
    UniqueFd guest = connector_.open(guest_port_, true);
    if (!guest) {
        log::info("cannot open a UDP socket to 127.0.0.1:%u inside the namespace: %s", guest_port_,
                  std::strerror(errno));
        return nullptr;
    }
    if (sessions_.size() >= kMaxSessions)
        sessions_.pop_back();
    Session& session = sessions_.emplace_front();
    session.client = client;
    session.client_length = length;
    session.guest = std::move(guest);
    session.last_used_ms = now;
    return &session;
}

}  // namespace portwrap
