// The relay's state machine on real loopback TCP sockets, without a namespace: the
// test plays the connector (it queues the connector's replies, each carrying one end
// of a TCP connection whose other end plays the server inside) and drives the relay
// with poll() as the event loop does.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catch.h"
#include "connector.h"
#include "fd_pair.h"
#include "fd_passing.h"
#include "pipe_pool.h"
#include "relay.h"

using namespace portwrap;

namespace {

constexpr int kMaxRounds = 400;  // each round waits at most 10 ms: 4 s per wait at most

UniqueFd tcp_listener()
{
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd.get(), 64) == 0);
    return fd;
}

uint16_t port_of(int fd)
{
    sockaddr_in address{};
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    return ntohs(address.sin_port);
}

// A non-blocking client connected (or connecting) to 127.0.0.1:port.
UniqueFd connect_to(uint16_t port)
{
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    REQUIRE((rc == 0 || errno == EINPROGRESS));
    return fd;
}

size_t open_fds()
{
    size_t n = 0;
    for (int fd = 0; fd < 4096; ++fd)
        if (::fcntl(fd, F_GETFD) >= 0)
            ++n;
    return n;
}

// A relay on 127.0.0.1:<port>, with the test as its connector and as the server inside.
struct Harness {
    PipePool pipes;
    std::optional<Connector> connector;  // the relay's end
    UniqueFd connector_theirs;            // the fake connector's end
    UniqueFd server_listener = tcp_listener();  // "127.0.0.1:GUEST_PORT inside"
    uint16_t port = 0;
    std::unique_ptr<Relay> relay;

    explicit Harness(size_t max_connections = 0)
    {
        SocketPair pair = make_socket_pair(SOCK_SEQPACKET | SOCK_CLOEXEC);
        REQUIRE(pair);
        connector.emplace(std::move(pair.first), 0);
        connector_theirs = std::move(pair.second);
        UniqueFd listener = tcp_listener();
        port = port_of(listener.get());
        relay = std::make_unique<Relay>(std::move(listener), 9000, *connector, pipes, max_connections);
    }

    // Queues the connector's next answer: a socket connecting to the server listener.
    // (The relay sends its request first and then reads this reply.)
    void queue_guest()
    {
        UniqueFd guest = connect_to(port_of(server_listener.get()));
        connector::Reply reply;
        REQUIRE(fd_passing::send(connector_theirs.get(), &reply, sizeof reply, guest.get()) == sizeof reply);
    }

    // One round of the event loop.
    void round(int wait_ms = 10)
    {
        std::vector<pollfd> fds;
        uint32_t timeout = static_cast<uint32_t>(wait_ms);
        relay->fill(fds, timeout);
        ::poll(fds.data(), fds.size(), static_cast<int>(timeout));
        relay->dispatch(fds, false);
    }

    bool run_until(const std::function<bool()>& done)
    {
        for (int i = 0; i < kMaxRounds; ++i) {
            if (done())
                return true;
            round();
        }
        return done();
    }

    // A client through the relay and the server's end of the same connection.
    struct Pair {
        UniqueFd client, server;
    };
    Pair open()
    {
        queue_guest();
        Pair pair;
        pair.client = connect_to(port);
        REQUIRE(run_until([&] {
            pair.server.reset(::accept4(server_listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
            return pair.server.valid();
        }));
        return pair;
    }

    // Reads what `from` has until `want` bytes came (or end of file), running the relay.
    std::string read(int from, size_t want)
    {
        std::string got;
        run_until([&] {
            char buffer[65536];
            for (;;) {
                const ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
                if (n <= 0)
                    break;
                got.append(buffer, static_cast<size_t>(n));
            }
            return got.size() >= want;
        });
        return got;
    }

    // recv() on `fd` until it reports end of file (0) or an error (-errno), running the relay.
    int wait_end(int fd)
    {
        int result = 1;
        run_until([&] {
            char byte;
            const ssize_t n = ::recv(fd, &byte, 1, 0);
            if (n == 0)
                result = 0;
            else if (n < 0 && errno != EAGAIN)
                result = -errno;
            return result <= 0;
        });
        return result;
    }
};

void send_all(int fd, const std::string& data)
{
    REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

std::string pattern(size_t n)
{
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

}  // namespace

TEST_CASE("idle connections hold their two sockets and no pipe", "[relay]")
{
    Harness h;
    const size_t fds_before = open_fds();
    std::vector<Harness::Pair> pairs;
    for (int i = 0; i < 20; ++i)
        pairs.push_back(h.open());
    REQUIRE(h.run_until([&] { return h.relay->open_connections() == 20; }));
    for (int i = 0; i < 5; ++i)
        h.round(1);
    CHECK(h.pipes.in_use() == 0);
    CHECK(h.pipes.spare() <= PipePool::kMaxSpare);
    // Per connection: the relay's two sockets, the test's client and server sockets.
    CHECK(open_fds() - fds_before <= 20 * 4 + 2 * PipePool::kMaxSpare);
    // And they work.
    send_all(pairs[7].client.get(), "ping");
    CHECK(h.read(pairs[7].server.get(), 4) == "ping");
    CHECK(h.pipes.in_use() == 0);
}

TEST_CASE("a pipe is taken while data waits for the reader and given back once it is drained", "[relay]")
{
    Harness h;
    Harness::Pair p = h.open();
    REQUIRE(h.run_until([&] { return h.relay->open_connections() == 1; }));
    // The server reads nothing: the client's data fills the server's socket, then the pipe.
    const std::string data = pattern(8 << 20);
    size_t sent = 0;
    h.run_until([&] {
        while (sent < data.size()) {
            const ssize_t n = ::send(p.client.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += static_cast<size_t>(n);
        }
        return h.pipes.in_use() == 1 && h.relay->has_pending_output();
    });
    CHECK(h.pipes.in_use() == 1);
    CHECK(h.relay->has_pending_output());
    // The server reads: everything arrives, in order, and the pipe comes back.
    std::string got;
    h.run_until([&] {
        while (sent < data.size()) {
            const ssize_t n = ::send(p.client.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += static_cast<size_t>(n);
        }
        char buffer[1 << 16];
        for (;;) {
            const ssize_t n = ::recv(p.server.get(), buffer, sizeof buffer, 0);
            if (n <= 0)
                break;
            got.append(buffer, static_cast<size_t>(n));
        }
        return got.size() == data.size();
    });
    REQUIRE(got.size() == data.size());
    CHECK(got == data);
    CHECK(h.run_until([&] { return h.pipes.in_use() == 0; }));
    CHECK(!h.relay->has_pending_output());
    CHECK(h.pipes.spare() <= PipePool::kMaxSpare);
    CHECK(h.pipes.big() <= PipePool::kMaxBig);
}

TEST_CASE("a half-close is passed on each way, and the connection then ends", "[relay]")
{
    Harness h;
    Harness::Pair p = h.open();
    send_all(p.client.get(), "request");
    REQUIRE(::shutdown(p.client.get(), SHUT_WR) == 0);
    CHECK(h.read(p.server.get(), 7) == "request");
    CHECK(h.wait_end(p.server.get()) == 0);  // the client's FIN reached the server
    // The other way still works after the half-close.
    send_all(p.server.get(), "response");
    CHECK(h.read(p.client.get(), 8) == "response");
    REQUIRE(::shutdown(p.server.get(), SHUT_WR) == 0);
    CHECK(h.wait_end(p.client.get()) == 0);
    CHECK(h.run_until([&] { return h.relay->idle(); }));
    CHECK(h.pipes.in_use() == 0);
}

TEST_CASE("a reset on one side resets the other", "[relay]")
{
    Harness h;
    Harness::Pair p = h.open();
    send_all(p.client.get(), "hello");
    CHECK(h.read(p.server.get(), 5) == "hello");
    linger abort_on_close{1, 0};
    REQUIRE(::setsockopt(p.server.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close) == 0);
    p.server.reset();
    CHECK(h.wait_end(p.client.get()) == -ECONNRESET);
    CHECK(h.run_until([&] { return h.relay->idle(); }));
    CHECK(h.pipes.in_use() == 0);
}

TEST_CASE("past max_connections a new connection is reset at once; the open ones go on", "[relay]")
{
    Harness h(2);
    Harness::Pair a = h.open();
    Harness::Pair b = h.open();
    REQUIRE(h.run_until([&] { return h.relay->open_connections() == 2; }));
    UniqueFd third = connect_to(h.port);  // no reply queued: the relay must not ask for one
    CHECK(h.wait_end(third.get()) == -ECONNRESET);
    CHECK(h.relay->open_connections() == 2);
    send_all(a.client.get(), "still here");
    CHECK(h.read(a.server.get(), 10) == "still here");
    send_all(b.server.get(), "and here");
    CHECK(h.read(b.client.get(), 8) == "and here");
    // Once one ends, a new connection is accepted again.
    a.client.reset();
    a.server.reset();
    REQUIRE(h.run_until([&] { return h.relay->open_connections() == 1; }));
    Harness::Pair c = h.open();
    send_all(c.client.get(), "new");
    CHECK(h.read(c.server.get(), 3) == "new");
}

TEST_CASE("a direction that finds no pipe waits, and moves its data once it can have one", "[relay]")
{
    Harness h;
    Harness::Pair busy = h.open();
    Harness::Pair waiting = h.open();
    REQUIRE(h.run_until([&] { return h.relay->open_connections() == 2; }));
    // `busy` keeps the only pipe (its server reads nothing), so none is spare.
    const std::string data = pattern(4 << 20);
    size_t sent = 0;
    h.run_until([&] {
        while (sent < data.size()) {
            const ssize_t n = ::send(busy.client.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += static_cast<size_t>(n);
        }
        return h.pipes.in_use() == 1 && h.pipes.spare() == 0;
    });
    REQUIRE(h.pipes.in_use() == 1);
    REQUIRE(h.pipes.spare() == 0);
    // No fd can be opened now: pipe2() fails with EMFILE.
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    struct Restore {
        rlimit limit;
        ~Restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }
    } restore{saved};
    send_all(waiting.client.get(), "waiting");
    for (int i = 0; i < 20; ++i)
        h.round();
    char byte;
    const ssize_t got = ::recv(waiting.server.get(), &byte, 1, 0);
    const int recv_errno = errno;  // before Catch's own work (under this fd limit) can change it
    CHECK(got < 0);  // nothing came through
    CHECK(recv_errno == EAGAIN);
    CHECK(h.relay->open_connections() == 2);  // and nothing was reset
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    // Retried within 100 ms, without any new event on the socket.
    CHECK(h.read(waiting.server.get(), 7) == "waiting");
    CHECK(h.relay->open_connections() == 2);
}

TEST_CASE("the pool keeps at most kMaxSpare pipes and never hands out one with data", "[relay]")
{
    PipePool pool;
    std::vector<PipePool::Pipe> pipes(PipePool::kMaxSpare + 3);
    for (auto& pipe : pipes)
        REQUIRE(pool.take(pipe));
    CHECK(pool.in_use() == pipes.size());
    CHECK(pipes[0].capacity >= 4096);
    REQUIRE(::write(pipes[1].write.get(), "x", 1) == 1);
    pool.discard(pipes[1]);  // holds a byte: closed, not kept
    CHECK(!pipes[1].valid());
    for (auto& pipe : pipes)
        pool.give_back(pipe);
    CHECK(pool.in_use() == 0);
    CHECK(pool.spare() == PipePool::kMaxSpare);
    PipePool::Pipe again;
    REQUIRE(pool.take(again));
    char byte;
    const ssize_t got = ::read(again.read.get(), &byte, 1);
    const int read_errno = errno;  // before Catch's own work can change it
    CHECK(got < 0);  // empty
    CHECK(read_errno == EAGAIN);
    pool.give_back(again);
}

TEST_CASE("a big pipe given back to a full pool takes the place of a small spare", "[relay]")
{
    PipePool pool;
    std::vector<PipePool::Pipe> pipes(PipePool::kMaxSpare + 1);
    for (auto& pipe : pipes)
        REQUIRE(pool.take(pipe));
    if (!pool.grow(pipes.back())) {
        WARN("this kernel or user cannot grow a pipe to 1 MiB: nothing to check");
        for (auto& pipe : pipes)
            pool.give_back(pipe);
        return;
    }
    CHECK(pipes.back().capacity == static_cast<size_t>(PipePool::kBigSize));
    CHECK(pool.big() == 1);
    for (auto& pipe : pipes)
        pool.give_back(pipe);
    CHECK(pool.spare() == PipePool::kMaxSpare);
    CHECK(pool.big() == 1);  // kept; a small one was closed
    PipePool::Pipe again;
    REQUIRE(pool.take(again));
    CHECK(again.big);  // the most recently given back comes first
    pool.give_back(again);
}
