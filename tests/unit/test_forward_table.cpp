// ForwardTable on 127.0.0.1 with a real connector (loopback_fixture.h) and an echo
// server as the guest: forwards added and removed while a connection runs through
// them. The libslirp session behind it has a socketpair for a TAP.
#include <fcntl.h>

#include <list>
#include <string>

#include "catch.h"
#include "cli.h"
#include "error.h"
#include "forward_table.h"
#include "loopback_fixture.h"
#include "slirp_session.h"

using namespace portwrap;
using namespace portwrap::test;

namespace {

// A TCP echo server on 127.0.0.1: serve() answers what has arrived, without blocking,
// and closes a connection whose client has closed.
class EchoServer {
public:
    EchoServer() : listener_(bound_socket(SOCK_STREAM | SOCK_NONBLOCK)) { REQUIRE(::listen(listener_.get(), 16) == 0); }
    uint16_t port() const { return local_port(listener_.get()); }
    void serve()
    {
        for (int fd; (fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;)
            connections_.emplace_back(fd);
        for (auto it = connections_.begin(); it != connections_.end();) {
            char buffer[4096];
            const ssize_t got = ::read(it->get(), buffer, sizeof buffer);
            if (got > 0 && ::write(it->get(), buffer, static_cast<size_t>(got)) == got)
                ++it;
            else if (got == 0)
                it = connections_.erase(it);
            else
                ++it;
        }
    }

private:
    UniqueFd listener_;
    std::list<UniqueFd> connections_;
};

forward::Spec spec_of(forward::Protocol protocol, uint16_t host_port, uint16_t guest_port)
{
    forward::Spec spec;
    spec.protocol = protocol;
    spec.host_addr = "127.0.0.1";
    spec.host_port = host_port;
    spec.guest_port = guest_port;
    return spec;
}

uint16_t port_of(const std::string& host_side)
{
    return static_cast<uint16_t>(std::stoul(host_side.substr(host_side.rfind(':') + 1)));
}

UniqueFd connect_to(uint16_t port)
{
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = loopback(port);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        return UniqueFd();
    set_receive_timeout(fd.get(), 5);
    return fd;
}

bool readable(int fd)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

size_t filled_fds(PollSource& source)
{
    std::vector<pollfd> fds;
    uint32_t timeout_ms = UINT32_MAX;
    source.fill(fds, timeout_ms);
    return fds.size();
}

// Sends `text` on `client` and returns what comes back through the table.
std::string echo(ForwardTable& table, EchoServer& server, int client, const std::string& text)
{
    if (::send(client, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size()))
        return "(send failed)";
    run_until(table, [&] { return readable(client); }, 200, [&] { server.serve(); });
    char buffer[256];
    const ssize_t got = ::recv(client, buffer, sizeof buffer, MSG_DONTWAIT);
    return got > 0 ? std::string(buffer, static_cast<size_t>(got)) : "(nothing)";
}

// The message of the Error that `action` throws, or "(no error)".
template <typename Action>
std::string error_of(Action action)
{
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

UniqueFd fake_tap()
{
    SocketPair pair = make_socket_pair(SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
    REQUIRE(pair);
    return std::move(pair.first);
}

}  // namespace

TEST_CASE("forward table: a forward removed while a connection runs stops accepting, the connection goes on", "[forward-table]")
{
    TestConnector connector;
    SlirpSession slirp(fake_tap(), false);
    ForwardTable table(slirp, true, connector, cli::kDefaultMaxConnections);
    EchoServer server;

    const std::string host_side = table.add(spec_of(forward::Protocol::Tcp, 0, server.port()));
    const uint16_t port = port_of(host_side);
    CHECK(host_side == "127.0.0.1:" + std::to_string(port));
    CHECK(table.list() == std::vector<std::string>{host_side + ":" + std::to_string(server.port()) + "/tcp"});

    UniqueFd client = connect_to(port);
    REQUIRE(client);
    CHECK(echo(table, server, client.get(), "hello") == "hello");

    CHECK_FALSE(table.remove(spec_of(forward::Protocol::Tcp, port, server.port() + 1)));  // another guest port
    CHECK_FALSE(table.remove(spec_of(forward::Protocol::Udp, port, 0)));                  // another protocol
    CHECK(table.remove(spec_of(forward::Protocol::Tcp, port, 0)));
    CHECK(table.list().empty());
    CHECK_FALSE(connect_to(port));  // the listener is closed (a connection was accepted above)
    CHECK(echo(table, server, client.get(), "still there") == "still there");

    // The client leaves: the retired relay has nothing left and is dropped.
    client.reset();
    CHECK(run_until(table, [&] { return filled_fds(table) == 0; }, 200, [&] { server.serve(); }));
    CHECK_FALSE(table.has_pending_output());
}

TEST_CASE("forward table: forwards added at run time, beside a running connection, and their listing", "[forward-table]")
{
    TestConnector connector;
    SlirpSession slirp(fake_tap(), false);
    ForwardTable table(slirp, true, connector, cli::kDefaultMaxConnections);
    EchoServer server;

    const uint16_t first = port_of(table.add(spec_of(forward::Protocol::Tcp, 0, server.port())));
    UniqueFd client = connect_to(first);
    REQUIRE(client);
    CHECK(echo(table, server, client.get(), "one") == "one");

    const std::string second_side = table.add(spec_of(forward::Protocol::Tcp, 0, server.port()));
    const std::string udp_side = table.add(spec_of(forward::Protocol::Udp, 0, 5353));
    CHECK(udp_side.ends_with("/udp"));
    CHECK(table.list().size() == 3);
    CHECK(table.list()[2] == udp_side.substr(0, udp_side.size() - 4) + ":5353/udp");

    UniqueFd other = connect_to(port_of(second_side));
    REQUIRE(other);
    CHECK(echo(table, server, other.get(), "two") == "two");
    CHECK(echo(table, server, client.get(), "three") == "three");  // the first goes on

    // A host port in use: an error naming it, and the table is as it was.
    const auto before = table.list();
    const std::string error = error_of([&] { table.add(spec_of(forward::Protocol::Tcp, first, server.port())); });
    CHECK(error.find("127.0.0.1:" + std::to_string(first)) != std::string::npos);
    CHECK(table.list() == before);
    CHECK(table.remove(spec_of(forward::Protocol::Udp, port_of(udp_side.substr(0, udp_side.size() - 4)), 0)));
    CHECK(table.list().size() == 2);
}

TEST_CASE("forward table: without a connector, relay and UDP forwards are refused; libslirp's TCP forwards work", "[forward-table]")
{
    SlirpSession slirp(fake_tap(), false);
    Connector none;
    ForwardTable relay_table(slirp, true, none, cli::kDefaultMaxConnections);
    CHECK(error_of([&] { relay_table.add(spec_of(forward::Protocol::Tcp, 0, 80)); })
              .find("portwrap started no connector") != std::string::npos);
    CHECK(relay_table.list().empty());

    ForwardTable slirp_table(slirp, false, none, cli::kDefaultMaxConnections);
    CHECK(error_of([&] { slirp_table.add(spec_of(forward::Protocol::Udp, 0, 53)); })
              .find("portwrap started no connector") != std::string::npos);
    const std::string host_side = slirp_table.add(spec_of(forward::Protocol::Tcp, 0, 8080));
    const uint16_t port = port_of(host_side);
    UniqueFd probe = connect_to(port);
    CHECK(probe);  // libslirp listens on the host side
    CHECK(slirp_table.list() == std::vector<std::string>{host_side + ":8080/tcp"});
    CHECK(slirp_table.remove(spec_of(forward::Protocol::Tcp, port, 8080)));
    CHECK(slirp_table.list().empty());
    CHECK_FALSE(connect_to(port));
}
