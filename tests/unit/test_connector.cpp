// Connector (connector.h), portwrap's side of the connector process: it opens sockets
// inside (here the host's loopback, as in loopback_fixture.h), and stop() ends and
// reaps it, even when it is stopped.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cerrno>

#include "catch.h"
#include "connector.h"
#include "fd_pair.h"
#include "loopback_fixture.h"

using namespace portwrap;
using namespace portwrap::test;

namespace {

// SIGCHLD through a signalfd, as portwrap's parent has it, for the test's length.
struct ChildSignals {
    ChildSignals()
    {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        REQUIRE(::sigprocmask(SIG_BLOCK, &set, &saved) == 0);
        fd.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
        REQUIRE(fd);
    }
    ~ChildSignals() { ::sigprocmask(SIG_SETMASK, &saved, nullptr); }
    sigset_t saved;
    UniqueFd fd;
};

// A connector started as the namespace child starts it (loopback_fixture.h), with
// portwrap's end.
Connector start_connector(pid_t& pid)
{
    SocketPair pair = make_socket_pair(SOCK_SEQPACKET | SOCK_CLOEXEC);
    REQUIRE(pair);
    pid = spawn_connector(std::move(pair.second));
    REQUIRE(pid > 0);
    return Connector(std::move(pair.first), pid);
}

bool reaped(pid_t pid)
{
    return ::waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD;
}

}  // namespace

TEST_CASE("connector: opens a TCP socket to the port inside; none at all without a connector", "[connector]")
{
    ChildSignals signals;
    pid_t pid = 0;
    Connector connector = start_connector(pid);
    UniqueFd server = bound_socket(SOCK_STREAM);
    REQUIRE(::listen(server.get(), 1) == 0);
    CHECK(connector.running());
    UniqueFd socket = connector.open(local_port(server.get()));
    CHECK(socket);
    connector.stop(5000, signals.fd.get());

    Connector none;
    CHECK_FALSE(none.running());
    errno = 0;
    CHECK_FALSE(none.open(80));
    CHECK(errno == EBADF);
}

TEST_CASE("connector: stop() closes its socket and reaps it; later opens fail", "[connector]")
{
    ChildSignals signals;
    pid_t pid = 0;
    Connector connector = start_connector(pid);
    CHECK_FALSE(reaped(pid));  // positive control: running, our child
    connector.stop(5000, signals.fd.get());
    CHECK(reaped(pid));
    CHECK_FALSE(connector.running());
    CHECK_FALSE(connector.open(80));
}

TEST_CASE("connector: a stopped connector never reads the end-of-file: stop() kills and reaps it", "[connector]")
{
    ChildSignals signals;
    pid_t pid = 0;
    Connector connector = start_connector(pid);
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    // It stays after its socket closes while stopped (the grace passes without it).
    connector.stop(200, signals.fd.get());
    CHECK(reaped(pid));
}
