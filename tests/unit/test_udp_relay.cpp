// UdpRelay on 127.0.0.1 with a real connector (loopback_fixture.h): sessions per
// client, idle expiry, the session cap. A session is visible from outside in two ways:
// the fds fill() adds (the host socket, then one per session) and the source port the
// server inside sees (one socket per session).
#include <map>
#include <string>

#include "catch.h"
#include "loopback_fixture.h"
#include "udp_relay.h"

using namespace portwrap;
using namespace portwrap::test;

namespace {

bool readable(int fd)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

size_t filled_fds(PollSource& source, uint32_t* timeout = nullptr)
{
    std::vector<pollfd> fds;
    uint32_t timeout_ms = UINT32_MAX;
    source.fill(fds, timeout_ms);
    if (timeout)
        *timeout = timeout_ms;
    return fds.size();
}

struct Datagram {
    std::string text;
    uint16_t from_port = 0;
};

Datagram receive(int fd)
{
    char buffer[256];
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t got = ::recvfrom(fd, buffer, sizeof buffer, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 0)
        return {};
    return {std::string(buffer, static_cast<size_t>(got)), ntohs(from.sin_port)};
}

void send_to(int fd, const std::string& text, uint16_t port)
{
    const sockaddr_in to = loopback(port);
    REQUIRE(::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
            static_cast<ssize_t>(text.size()));
}

// The relay on a fresh host socket, towards `server` (the UDP server "inside").
struct Setup {
    explicit Setup(int64_t idle_ms = UdpRelay::kIdleMs)
        : server(bound_socket(SOCK_DGRAM)), host(bound_socket(SOCK_DGRAM | SOCK_NONBLOCK)),
          host_port(local_port(host.get())),
          relay(std::move(host), local_port(server.get()), connector, idle_ms)
    {
    }
    // Sends `text` from `client` to the relay and returns it as the server got it.
    Datagram through(int client, const std::string& text)
    {
        send_to(client, text, host_port);
        run_until(relay, [&] { return readable(server.get()); });
        return receive(server.get());
    }

    TestConnector connector;
    UniqueFd server;
    UniqueFd host;
    uint16_t host_port;
    UdpRelay relay;
};

}  // namespace

TEST_CASE("a client's datagrams go out through one session, and the answers come back to it", "[udp-relay]")
{
    Setup s;
    uint32_t timeout = 0;
    CHECK(filled_fds(s.relay, &timeout) == 1);  // the host socket only
    CHECK(timeout == UINT32_MAX);               // no session: no deadline
    CHECK_FALSE(s.relay.has_pending_output());  // a datagram is sent or dropped, never held

    UniqueFd a = bound_socket(SOCK_DGRAM), b = bound_socket(SOCK_DGRAM);
    const Datagram first = s.through(a.get(), "ping");
    CHECK(first.text == "ping");
    CHECK(filled_fds(s.relay, &timeout) == 2);
    CHECK(timeout <= UdpRelay::kIdleMs);  // the session's expiry is a deadline

    // The server answers the session's socket; the relay sends it on to the client.
    send_to(s.server.get(), "pong", first.from_port);
    run_until(s.relay, [&] { return readable(a.get()); });
    const Datagram answer = receive(a.get());
    CHECK(answer.text == "pong");
    CHECK(answer.from_port == s.host_port);

    CHECK(s.through(a.get(), "again").from_port == first.from_port);  // the same session
    const Datagram other = s.through(b.get(), "from b");
    CHECK(other.text == "from b");
    CHECK(other.from_port != first.from_port);  // another client, another session
    CHECK(filled_fds(s.relay) == 3);
}

TEST_CASE("a session idle for the idle time ends; the client's next datagram opens a new one", "[udp-relay]")
{
    Setup s(150);
    UniqueFd a = bound_socket(SOCK_DGRAM);
    const Datagram first = s.through(a.get(), "one");
    REQUIRE(first.text == "one");
    uint32_t timeout = 0;
    CHECK(filled_fds(s.relay, &timeout) == 2);
    CHECK(timeout <= 150);

    // Rounds wait as long as fill() asks: the session ends without any traffic.
    CHECK(run_until(s.relay, [&] { return filled_fds(s.relay) == 1; }, 50));

    const Datagram second = s.through(a.get(), "two");
    CHECK(second.text == "two");
    CHECK(second.from_port != first.from_port);
    CHECK(filled_fds(s.relay) == 2);
}

TEST_CASE("at most kMaxSessions sessions: the least recently used client's makes room", "[udp-relay]")
{
    Setup s;
    const size_t clients_count = UdpRelay::kMaxSessions + 1;
    std::vector<UniqueFd> clients;
    std::map<std::string, uint16_t> session_port;  // by text: the client's index
    // In batches, so that no socket buffer on the way overflows and drops a datagram.
    for (size_t i = 0; i < clients_count; ++i) {
        clients.push_back(bound_socket(SOCK_DGRAM));
        send_to(clients.back().get(), std::to_string(i), s.host_port);
        if (clients.size() % 32 != 0 && i + 1 != clients_count)
            continue;
        run_until(s.relay, [&] { return session_port.size() == clients.size(); }, 200, [&] {
            while (readable(s.server.get())) {
                const Datagram got = receive(s.server.get());
                session_port[got.text] = got.from_port;
            }
        });
    }
    REQUIRE(session_port.size() == clients_count);
    CHECK(filled_fds(s.relay) == 1 + UdpRelay::kMaxSessions);

    // Client 0 was the least recently used when the last one came: its session is
    // gone (a new one replaces client 1's now), while the newest client's remains.
    const Datagram newest = s.through(clients.back().get(), "newest again");
    CHECK(newest.from_port == session_port[std::to_string(clients_count - 1)]);
    const Datagram oldest = s.through(clients.front().get(), "oldest again");
    CHECK(oldest.text == "oldest again");
    CHECK(oldest.from_port != session_port["0"]);
    CHECK(filled_fds(s.relay) == 1 + UdpRelay::kMaxSessions);
}
