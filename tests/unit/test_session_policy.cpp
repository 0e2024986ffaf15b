// The session's decisions (session_policy.h), without a namespace: which port driver,
// when the connector runs, what --ready-fd probes, which -T listeners the child makes.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "catch.h"
#include "error.h"
#include "session_policy.h"

using namespace portwrap;
using namespace portwrap::session_policy;
using cli::PortDriver;

namespace {

forward::Spec tcp(uint16_t guest_port, bool ipv6 = false)
{
    forward::Spec spec;
    spec.host_addr = ipv6 ? "::1" : "127.0.0.1";
    spec.ipv6 = ipv6;
    spec.guest_port = guest_port;
    return spec;
}

forward::Spec udp(uint16_t guest_port)
{
    forward::Spec spec = tcp(guest_port);
    spec.protocol = forward::Protocol::Udp;
    return spec;
}

forward::Spec unix_socket(uint16_t guest_port)
{
    forward::Spec spec;
    spec.unix_path = "/tmp/portwrap-test.sock";
    spec.guest_port = guest_port;
    return spec;
}

// A probe that counts its calls, answering `reason`.
struct Probe {
    std::optional<std::string> reason;
    int calls = 0;
    HandoffProbe function()
    {
        return [this] {
            ++calls;
            return reason;
        };
    }
};

}  // namespace

TEST_CASE("port driver: auto is handoff where the kernel allows it, else relay, and -v says why", "[session-policy]")
{
    Probe able;
    const DriverChoice handoff = choose_port_driver(PortDriver::Auto, able.function());
    CHECK(handoff.driver == PortDriver::Handoff);
    CHECK(handoff.note.find("handoff") != std::string::npos);

    Probe unable{"seccomp user notification is unavailable"};
    const DriverChoice relay = choose_port_driver(PortDriver::Auto, unable.function());
    CHECK(relay.driver == PortDriver::Relay);
    CHECK(relay.note == "port driver: relay (handoff unavailable: seccomp user notification is unavailable)");
}

TEST_CASE("port driver: an explicit choice is kept, and the kernel is asked only when it matters", "[session-policy]")
{
    Probe unable{"too old"};
    for (PortDriver asked : {PortDriver::Relay, PortDriver::Slirp}) {
        const DriverChoice choice = choose_port_driver(asked, unable.function());
        CHECK(choice.driver == asked);
        CHECK(choice.note.empty());
    }
    CHECK(unable.calls == 0);

    Probe able;
    CHECK(choose_port_driver(PortDriver::Handoff, able.function()).driver == PortDriver::Handoff);
    CHECK(able.calls == 1);
}

TEST_CASE("port driver: --port-driver=handoff where it cannot run fails, naming the way out", "[session-policy]")
{
    Probe unable{"pidfd_getfd is unavailable"};
    try {
        choose_port_driver(PortDriver::Handoff, unable.function());
        FAIL("expected an Error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) ==
              "--port-driver=handoff is unavailable here: pidfd_getfd is unavailable (use --port-driver=relay)");
    }
}

TEST_CASE("connector: needed for TCP with the relay and handoff drivers, for UDP always", "[session-policy]")
{
    CHECK(needs_connector(PortDriver::Relay, {tcp(80)}, false, false));
    CHECK(needs_connector(PortDriver::Handoff, {tcp(80)}, false, false));
    CHECK(needs_connector(PortDriver::Handoff, {unix_socket(80)}, false, false));
    CHECK_FALSE(needs_connector(PortDriver::Slirp, {tcp(80)}, false, false));
    CHECK_FALSE(needs_connector(PortDriver::Slirp, {tcp(80), unix_socket(81)}, false, false));
    CHECK(needs_connector(PortDriver::Slirp, {tcp(80), udp(53)}, false, false));
}

TEST_CASE("connector: needed for --ready-fd and --control-socket, whatever the forwards", "[session-policy]")
{
    for (PortDriver driver : {PortDriver::Relay, PortDriver::Handoff, PortDriver::Slirp}) {
        CHECK_FALSE(needs_connector(driver, {}, false, false));  // -T alone needs none
        CHECK(needs_connector(driver, {}, true, false));
        CHECK(needs_connector(driver, {}, false, true));
    }
}

TEST_CASE("readiness: TCP forwards on the loopback inside, or where libslirp delivers; UDP not probed", "[session-policy]")
{
    const std::vector<forward::Spec> forwards{tcp(80), udp(53), tcp(443, true), unix_socket(8888)};
    for (PortDriver driver : {PortDriver::Relay, PortDriver::Handoff}) {
        const auto targets = readiness_targets(driver, forwards);
        REQUIRE(targets.size() == 3);
        CHECK(targets[0].port == 80);
        CHECK(targets[1].port == 443);
        CHECK(targets[2].port == 8888);
        for (const auto& target : targets)
            CHECK(target.where == connector::Target::Loopback);
    }
    const auto slirp = readiness_targets(PortDriver::Slirp, forwards);
    REQUIRE(slirp.size() == 3);
    CHECK(slirp[0].where == connector::Target::TapAddress);
    CHECK(slirp[1].where == connector::Target::TapAddress6);
    CHECK(slirp[2].where == connector::Target::TapAddress);
    CHECK(readiness_targets(PortDriver::Relay, {udp(53)}).empty());
}

TEST_CASE("--jupyterhub: the service is reached on the loopback inside, but on 0.0.0.0 with libslirp", "[session-policy]")
{
    CHECK(jupyterhub_inside_address(PortDriver::Auto) == "127.0.0.1");
    CHECK(jupyterhub_inside_address(PortDriver::Relay) == "127.0.0.1");
    CHECK(jupyterhub_inside_address(PortDriver::Handoff) == "127.0.0.1");
    CHECK(jupyterhub_inside_address(PortDriver::Slirp) == "0.0.0.0");
}

TEST_CASE("-T: each listener the child makes knows the -T it belongs to", "[session-policy]")
{
    auto parse = [](const std::string& text) { return std::get<host_access::Spec>(host_access::parse(text)); };
    const std::vector<host_access::Spec> to_host{parse("8081"), parse("127.0.0.1:9000:9001")};
    const GuestListeners made = guest_listeners(to_host);
    REQUIRE(made.listeners.size() == made.owner_of.size());
    // The first -T names no address inside: 127.0.0.1 and (if the namespace has IPv6) ::1.
    size_t first = 0, second = 0;
    for (size_t i = 0; i < made.listeners.size(); ++i) {
        CHECK(made.owner_of[i] < to_host.size());
        (made.owner_of[i] == 0 ? first : second) += 1;
        if (i > 0)
            CHECK(made.owner_of[i] >= made.owner_of[i - 1]);  // in -T order
    }
    CHECK(first == host_access::guest_listeners(to_host[0]).size());
    CHECK(second == host_access::guest_listeners(to_host[1]).size());
    CHECK(first >= 1);
    CHECK(second == 1);
    CHECK(guest_listeners({}).listeners.empty());
}
