#include <string>
#include <variant>

#include "catch.h"
#include "forward_spec.h"

using namespace portwrap::forward;

namespace {

Spec parse_ok(const std::string& text, const std::string& default_addr = "127.0.0.1")
{
    auto result = parse(text, default_addr);
    if (auto* error = std::get_if<std::string>(&result))
        FAIL("expected a forward, got: " << *error);
    return std::get<Spec>(result);
}

std::string parse_error(const std::string& text)
{
    auto result = parse(text, "127.0.0.1");
    REQUIRE(std::holds_alternative<std::string>(result));
    return std::get<std::string>(result);
}

}  // namespace

TEST_CASE("a host port alone, and with a guest port", "[forward-spec]")
{
    Spec plain = parse_ok("9876");
    CHECK(plain == Spec{Protocol::Tcp, "", false, "127.0.0.1", 9876, 0});
    CHECK(parse_ok("9876:8888") == Spec{Protocol::Tcp, "", false, "127.0.0.1", 9876, 8888});
    CHECK(parse_ok("0:8888").host_port == 0);  // any free port
    CHECK(parse_ok("9876", "::").ipv6);        // --host-addr may be IPv6 too
}

TEST_CASE("an address in front: IPv4 as is, IPv6 in brackets", "[forward-spec]")
{
    CHECK(parse_ok("127.0.0.2:9876:8888") == Spec{Protocol::Tcp, "", false, "127.0.0.2", 9876, 8888});
    CHECK(parse_ok("127.0.0.2:9876") == Spec{Protocol::Tcp, "", false, "127.0.0.2", 9876, 0});
    CHECK(parse_ok("[::1]:9876:8888") == Spec{Protocol::Tcp, "", true, "::1", 9876, 8888});
    CHECK(parse_ok("[::]:9876") == Spec{Protocol::Tcp, "", true, "::", 9876, 0});
    CHECK(parse_ok("[0:0:0:0:0:0:0:1]:9876").host_addr == "::1");  // one spelling per address
    CHECK(parse_error("::1:9876:8888").find("too many ':'") != std::string::npos);
    CHECK(parse_error("[127.0.0.1]:1:2") == "invalid IPv6 address '127.0.0.1' in '[127.0.0.1]:1:2'");
    CHECK(parse_error("[::1]9876") == "invalid forward '[::1]9876': expected [IPV6-ADDRESS]:HOST_PORT[:GUEST_PORT]");
    CHECK(parse_error("localhost:1:2").find("invalid address 'localhost'") == 0);
}

TEST_CASE("/udp and /tcp at the end choose the protocol", "[forward-spec]")
{
    CHECK(parse_ok("5353:53/udp").protocol == Protocol::Udp);
    CHECK(parse_ok("5353:53/tcp").protocol == Protocol::Tcp);
    CHECK(parse_ok("[::1]:5353:53/udp").ipv6);
    CHECK(parse_error("5353:53/sctp").find("'53/sctp'") != std::string::npos);
}

TEST_CASE("unix:PATH with an optional guest port after the last colon", "[forward-spec]")
{
    CHECK(parse_ok("unix:/run/user/1000/jupyter.sock:8888") ==
          Spec{Protocol::Tcp, "/run/user/1000/jupyter.sock", false, "", 0, 8888});
    CHECK(parse_ok("unix:/tmp/a:b.sock").unix_path == "/tmp/a:b.sock");
    CHECK(parse_ok("unix:/tmp/a:b.sock").guest_port == 0);
    CHECK(parse_ok("unix:relative.sock:1").unix_path == "relative.sock");
    CHECK(parse_error("unix:") == "invalid forward 'unix:': the Unix socket path is empty");
    CHECK(parse_error("unix::80") == "invalid forward 'unix::80': the Unix socket path is empty");
    CHECK(parse_error("unix:/tmp/s:0").find("invalid guest port '0'") == 0);
    CHECK(parse_error("unix:/tmp/s:1/udp") == "invalid forward 'unix:/tmp/s:1/udp': a Unix socket forward carries TCP only");
    CHECK(parse_error("unix:/" + std::string(200, 'x')).find("longer than 107 bytes") != std::string::npos);
}

TEST_CASE("ports must be plain decimal in range", "[forward-spec]")
{
    CHECK(parse_error("65536").find("invalid host port '65536'") == 0);
    CHECK(parse_error("1:65536").find("invalid guest port '65536'") == 0);
    CHECK(parse_error("1:0").find("invalid guest port '0'") == 0);
    CHECK(parse_error("1:").find("invalid guest port ''") == 0);
    CHECK(parse_error(":1").find("invalid host port ''") == 0);
    CHECK(parse_error("+1").find("invalid host port '+1'") == 0);
    CHECK(parse_error("1:2:3:4").find("too many ':'") != std::string::npos);
}

TEST_CASE("host_side writes the host side as people type it", "[forward-spec]")
{
    CHECK(host_side(parse_ok("9876:1")) == "127.0.0.1:9876");
    CHECK(host_side(parse_ok("[::1]:9876:1")) == "[::1]:9876");
    CHECK(host_side(parse_ok("unix:/s:1")) == "unix:/s");
    CHECK(std::string(protocol_name(Protocol::Udp)) == "udp");
}
