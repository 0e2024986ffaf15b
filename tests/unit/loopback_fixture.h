// Helpers for the unit tests of the poll sources (UDP relay, readiness, forward table):
// a real connector process and servers on 127.0.0.1, no namespace. The connector is
// started the way the namespace child starts it: a child of this test process (which
// plays portwrap) calls connector::spawn, which makes the connector this process's
// child. It opens its sockets in the host's network namespace, where "inside" is
// simply the host's loopback.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "connector.h"
#include "fd_pair.h"
#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap::test {

// Starts a connector the way the namespace child does: a forked stand-in for the
// child calls connector::spawn, whose CLONE_PARENT makes the connector this process's
// child. `theirs` is the connector's end of its socket pair. Its pid, or -1.
inline pid_t spawn_connector(UniqueFd theirs)
{
    PipeEnds pid_pipe = make_pipe(O_CLOEXEC);
    if (!pid_pipe)
        return -1;
    const pid_t self = ::getpid();
    const pid_t caller = ::fork();
    if (caller < 0)
        return -1;
    if (caller == 0) {
        pid_t connector = -1;
        try {
            connector = connector::spawn(std::move(theirs), self, false);
        } catch (...) {
        }
        ssize_t unused = ::write(pid_pipe.write.get(), &connector, sizeof connector);
        (void)unused;
        _exit(connector > 0 ? 0 : 1);
    }
    theirs.reset();
    pid_pipe.write.reset();
    while (::waitpid(caller, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_t pid = -1;
    if (::read(pid_pipe.read.get(), &pid, sizeof pid) != sizeof pid)
        return -1;
    return pid;
}

// A running connector, passed wherever a Connector& is asked for.
class TestConnector {
public:
    TestConnector()
    {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        SocketPair pair = make_socket_pair(SOCK_SEQPACKET | SOCK_CLOEXEC);
        if (!pair)
            throw std::runtime_error("socketpair failed");
        pid_ = spawn_connector(std::move(pair.second));
        if (pid_ <= 0)
            throw std::runtime_error("cannot start the connector");
        connector_.emplace(std::move(pair.first), 0);  // 0: reaped here, not by stop()
    }
    ~TestConnector()
    {
        connector_.reset();  // the connector leaves on end-of-file
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    TestConnector(const TestConnector&) = delete;
    TestConnector& operator=(const TestConnector&) = delete;

    operator Connector&() { return *connector_; }

private:
    std::optional<Connector> connector_;
    pid_t pid_ = -1;
};

inline sockaddr_in loopback(uint16_t port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// A socket of `type` bound to 127.0.0.1 (port 0: the kernel picks one).
inline UniqueFd bound_socket(int type, uint16_t port = 0)
{
    UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    sockaddr_in address = loopback(port);
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        throw std::runtime_error("cannot bind a socket on 127.0.0.1");
    return fd;
}

inline uint16_t local_port(int fd)
{
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

inline void set_receive_timeout(int fd, int seconds)
{
    timeval timeout{seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

// Polls `source` round after round (as the event loop does, with `extra` fds of the
// test's own in the same poll) until `done()` or `max_rounds`; each round waits at
// most the timeout the source asks for, capped at 1 s. Returns done().
inline bool run_until(PollSource& source, const std::function<bool()>& done, int max_rounds = 200,
                      const std::function<void()>& each_round = {})
{
    for (int round = 0; round < max_rounds; ++round) {
        if (done())
            return true;
        std::vector<pollfd> fds;
        uint32_t timeout_ms = 1000;
        source.fill(fds, timeout_ms);
        const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<uint32_t>(timeout_ms, 1000)));
        source.dispatch(fds, ready < 0);
        if (each_round)
            each_round();
    }
    return done();
}

}  // namespace portwrap::test
