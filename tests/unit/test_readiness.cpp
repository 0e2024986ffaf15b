// ReadinessProbe on 127.0.0.1 with a real connector (loopback_fixture.h): the report
// waits until every target accepts a connection, is written once, and closes the fd.
#include <fcntl.h>
#include <signal.h>

#include <string>

#include "catch.h"
#include "fd_pair.h"
#include "loopback_fixture.h"
#include "readiness.h"

using namespace portwrap;
using namespace portwrap::test;

namespace {

struct ReadyPipe {
    ReadyPipe()
    {
        PipeEnds pipe = make_pipe(O_CLOEXEC | O_NONBLOCK);
        REQUIRE(pipe);
        read_end = std::move(pipe.read);
        write_end = std::move(pipe.write);
    }
    bool has_report() const
    {
        pollfd p{read_end.get(), POLLIN, 0};
        return ::poll(&p, 1, 0) > 0;  // data, or the end closed
    }
    std::string read_all() const
    {
        std::string text;
        char buffer[256];
        ssize_t got;
        while ((got = ::read(read_end.get(), buffer, sizeof buffer)) > 0)
            text.append(buffer, static_cast<size_t>(got));
        return text;
    }
    bool closed() const  // after read_all(): end-of-file, not "nothing yet"
    {
        char byte;
        return ::read(read_end.get(), &byte, 1) == 0;
    }
    UniqueFd read_end, write_end;
};

ReadinessProbe::Target loopback_target(int socket)
{
    return {local_port(socket), connector::Target::Loopback};
}

// One round's fill(): how many probe connections are in progress, and the timeout.
size_t connecting(ReadinessProbe& probe, uint32_t& timeout_ms)
{
    std::vector<pollfd> fds;
    timeout_ms = UINT32_MAX;
    probe.fill(fds, timeout_ms);
    return fds.size();
}

}  // namespace

TEST_CASE("readiness: no report while a target refuses; once all accept, the lines, then end-of-file", "[readiness]")
{
    TestConnector connector;
    ReadyPipe ready;
    UniqueFd first = bound_socket(SOCK_STREAM), second = bound_socket(SOCK_STREAM);
    REQUIRE(::listen(first.get(), 8) == 0);  // the second is bound but not listening: refused
    ReadinessProbe probe(std::move(ready.write_end), {"127.0.0.1:4000", "[::1]:4001"},
                         {loopback_target(first.get()), loopback_target(second.get())}, connector);

    // The probe tries, is refused and waits before the next try: a round with nothing
    // in progress and a retry pause as the timeout.
    uint32_t timeout_ms = 0;
    bool waited_to_retry = run_until(probe, [&] { return connecting(probe, timeout_ms) == 0 && timeout_ms < 1000; });
    CHECK(waited_to_retry);
    CHECK_FALSE(ready.has_report());

    REQUIRE(::listen(second.get(), 8) == 0);
    CHECK(run_until(probe, [&] { return ready.has_report(); }));
    CHECK(ready.read_all() == "127.0.0.1:4000\n[::1]:4001\n");
    CHECK(ready.closed());
    CHECK(connecting(probe, timeout_ms) == 0);  // done: nothing more to poll
    CHECK(timeout_ms == UINT32_MAX);
}

TEST_CASE("readiness: with no TCP target (only UDP forwards) the report is written at once", "[readiness]")
{
    ReadyPipe ready;
    Connector none;
    ReadinessProbe probe(std::move(ready.write_end), {"127.0.0.1:5353/udp"}, {}, none);
    CHECK(ready.read_all() == "127.0.0.1:5353/udp\n");
    CHECK(ready.closed());
}

TEST_CASE("readiness: a reader that went away loses the report, the probe goes on", "[readiness]")
{
    ::signal(SIGPIPE, SIG_IGN);  // as portwrap's parent does
    ReadyPipe ready;
    ready.read_end.reset();
    Connector none;
    ReadinessProbe probe(std::move(ready.write_end), {"127.0.0.1:1"}, {}, none);
    uint32_t timeout_ms = 0;
    CHECK(connecting(probe, timeout_ms) == 0);
    CHECK(timeout_ms == UINT32_MAX);
}
