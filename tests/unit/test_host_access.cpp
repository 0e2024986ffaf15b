#include "catch.h"
#include "host_access.h"

using namespace portwrap::host_access;

namespace {
Spec parse_ok(const std::string& text)
{
    auto result = parse(text);
    if (const auto* error = std::get_if<std::string>(&result))
        FAIL("expected a spec, got " << *error);
    return std::get<Spec>(result);
}
std::string parse_error(const std::string& text)
{
    auto result = parse(text);
    REQUIRE(std::holds_alternative<std::string>(result));
    return std::get<std::string>(result);
}
}  // namespace

TEST_CASE("-T GUEST_PORT[:HOST_PORT]: both loopbacks inside, the host's 127.0.0.1", "[host-access]")
{
    CHECK(parse_ok("8081") == Spec{"", 8081, "127.0.0.1", 8081});
    CHECK(parse_ok("5432:15432") == Spec{"", 5432, "127.0.0.1", 15432});
    const auto listeners = guest_listeners(parse_ok("8081"));
    REQUIRE(listeners.size() == 2);
    CHECK(listeners[0].addr == "127.0.0.1");
    CHECK_FALSE(listeners[0].optional);
    CHECK(listeners[1].addr == "::1");
    CHECK(listeners[1].optional);
    CHECK(describe(parse_ok("8081")) == "127.0.0.1:8081 and [::1]:8081 inside -> the host's 127.0.0.1:8081");
}

TEST_CASE("-T GUEST_ADDR:...: that loopback address inside and on the host", "[host-access]")
{
    CHECK(parse_ok("127.0.0.1:8081") == Spec{"127.0.0.1", 8081, "127.0.0.1", 8081});
    CHECK(parse_ok("127.0.1.1:8081:9000") == Spec{"127.0.1.1", 8081, "127.0.1.1", 9000});
    CHECK(parse_ok("[::1]:8081") == Spec{"::1", 8081, "::1", 8081});
    CHECK(guest_listeners(parse_ok("[::1]:8081")).size() == 1);
    CHECK(describe(parse_ok("[::1]:1:2")) == "[::1]:1 inside -> the host's [::1]:2");
}

TEST_CASE("-T refuses other addresses and bad ports, naming the value", "[host-access]")
{
    CHECK(parse_error("10.0.0.1:80").find("'10.0.0.1'") != std::string::npos);
    CHECK(parse_error("10.0.0.1:80").find("loopback") != std::string::npos);
    CHECK(parse_error("[fe80::1]:80").find("loopback") != std::string::npos);
    CHECK(parse_error("0") == "invalid guest port '0' in -T '0': expected a number from 1 to 65535");
    CHECK(parse_error("80:0").find("invalid host port '0'") != std::string::npos);
    CHECK(parse_error("1:2:3").find("[GUEST_ADDR:]GUEST_PORT[:HOST_PORT]") != std::string::npos);
    CHECK(parse_error("[::1").find("[::1]") != std::string::npos);
    CHECK(parse_error("").find("invalid guest port") != std::string::npos);
    CHECK(parse_error("70000").find("'70000'") != std::string::npos);
}

TEST_CASE("loopback addresses", "[host-access]")
{
    CHECK(is_loopback("127.0.0.1"));
    CHECK(is_loopback("127.255.0.9"));
    CHECK(is_loopback("::1"));
    CHECK_FALSE(is_loopback("128.0.0.1"));
    CHECK_FALSE(is_loopback("::"));
    CHECK_FALSE(is_loopback("localhost"));
    CHECK(join("::1", 80) == "[::1]:80");
    CHECK(join("127.0.0.1", 80) == "127.0.0.1:80");
}
