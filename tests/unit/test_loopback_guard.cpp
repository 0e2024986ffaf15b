#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "catch.h"
#include "loopback_guard.h"

using namespace portwrap::loopback_guard;

namespace {

// An Ethernet II frame from the guest to libslirp's MAC with `payload` after the header.
std::vector<uint8_t> ethernet(uint16_t ether_type, const std::vector<uint8_t>& payload)
{
    std::vector<uint8_t> frame = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x64};
    frame.push_back(static_cast<uint8_t>(ether_type >> 8));
    frame.push_back(static_cast<uint8_t>(ether_type));
    frame.insert(frame.end(), payload.begin(), payload.end());
    return frame;
}

// An IPv4 packet (header with `option_bytes` of options, then 8 bytes of UDP) to `to`.
std::vector<uint8_t> ipv4_frame(const char* to, size_t option_bytes = 0, uint8_t protocol = 17)
{
    std::vector<uint8_t> ip(20 + option_bytes + 8, 0);
    ip[0] = static_cast<uint8_t>(0x40 | (20 + option_bytes) / 4);
    ip[3] = static_cast<uint8_t>(ip.size());
    ip[8] = 64;
    ip[9] = protocol;
    in_addr source{}, destination{};
    inet_pton(AF_INET, "10.0.2.100", &source);
    REQUIRE(inet_pton(AF_INET, to, &destination) == 1);
    std::memcpy(&ip[12], &source, 4);
    std::memcpy(&ip[16], &destination, 4);
    return ethernet(0x0800, ip);
}

// An IPv6 packet to `to`; `next_header` 0 puts a hop-by-hop extension header first.
std::vector<uint8_t> ipv6_frame(const char* to, uint8_t next_header = 17)
{
    std::vector<uint8_t> ip(40 + 8, 0);
    ip[0] = 0x60;
    ip[5] = 8;
    ip[6] = next_header;
    ip[7] = 64;
    in6_addr source{}, destination{};
    inet_pton(AF_INET6, "fd00::100", &source);
    REQUIRE(inet_pton(AF_INET6, to, &destination) == 1);
    std::memcpy(&ip[8], &source, 16);
    std::memcpy(&ip[24], &destination, 16);
    return ethernet(0x86dd, ip);
}

Verdict verdict(const std::vector<uint8_t>& frame) { return judge(frame).verdict; }

}  // namespace

TEST_CASE("IPv4 packets to loopback or 0.0.0.0/8 are dropped", "[loopback-guard]")
{
    for (const char* to : {"127.0.0.1", "127.0.0.53", "127.1.2.3", "127.255.255.255", "0.0.0.0", "0.1.2.3",
                           "0.255.255.255"}) {
        INFO(to);
        CHECK(verdict(ipv4_frame(to)) == Verdict::Loopback);
        CHECK(verdict(ipv4_frame(to, 0, 6)) == Verdict::Loopback);  // TCP
        CHECK(verdict(ipv4_frame(to, 0, 1)) == Verdict::Loopback);  // ICMP
    }
}

TEST_CASE("IPv4 options do not move the destination", "[loopback-guard]")
{
    CHECK(verdict(ipv4_frame("127.0.0.1", 40)) == Verdict::Loopback);
    CHECK(verdict(ipv4_frame("10.0.2.2", 40)) == Verdict::Pass);
}

TEST_CASE("IPv4 packets libslirp must keep getting pass", "[loopback-guard]")
{
    // The gateway (host loopback only with --allow-host-loopback, by libslirp's own
    // translation), DNS, DHCP's broadcast, the subnet broadcast, the world.
    for (const char* to : {"10.0.2.2", "10.0.2.3", "255.255.255.255", "10.0.2.255", "1.2.3.4", "128.0.0.1",
                           "126.255.255.255", "1.0.0.0", "224.0.0.251"}) {
        INFO(to);
        CHECK(verdict(ipv4_frame(to)) == Verdict::Pass);
    }
}

TEST_CASE("a DHCP discover (from 0.0.0.0 to 255.255.255.255) passes: only the destination counts",
          "[loopback-guard]")
{
    auto frame = ipv4_frame("255.255.255.255");
    std::memset(&frame[14 + 12], 0, 4);  // source 0.0.0.0
    CHECK(verdict(frame) == Verdict::Pass);
    auto from_loopback = ipv4_frame("10.0.2.2");
    from_loopback[14 + 12] = 127;  // source 127.x: the destination is what libslirp connects to
    CHECK(verdict(from_loopback) == Verdict::Pass);
}

TEST_CASE("IPv6 packets to ::1, :: and the IPv4 forms of blocked addresses are dropped", "[loopback-guard]")
{
    for (const char* to : {"::1", "::", "::ffff:127.0.0.1", "::ffff:127.9.8.7", "::ffff:0.0.0.0", "::ffff:0.1.2.3",
                           "::127.0.0.1", "::127.1.1.1", "::0.0.0.2"}) {
        INFO(to);
        CHECK(verdict(ipv6_frame(to)) == Verdict::Loopback);
        CHECK(verdict(ipv6_frame(to, 6)) == Verdict::Loopback);   // TCP
        CHECK(verdict(ipv6_frame(to, 58)) == Verdict::Loopback);  // ICMPv6
        CHECK(verdict(ipv6_frame(to, 0)) == Verdict::Loopback);   // behind a hop-by-hop header
    }
}

TEST_CASE("IPv6 packets libslirp must keep getting pass", "[loopback-guard]")
{
    // Gateway, DNS, NDP's multicast groups, link-local, the world, and IPv4 forms of
    // addresses that are not blocked.
    for (const char* to : {"fd00::2", "fd00::3", "ff02::1", "ff02::2", "ff02::1:ff00:2", "fe80::2", "2001:db8::1",
                           "::ffff:10.0.2.2", "::ffff:1.2.3.4", "::10.0.2.2", "::2:7f00:1", "1::", "::1:0:0:0",
                           "::fffe:7f00:1", "64:ff9b::7f00:1"}) {
        INFO(to);
        CHECK(verdict(ipv6_frame(to)) == Verdict::Pass);
    }
}

TEST_CASE("frames that are not IP pass: libslirp answers ARP itself and ignores the rest", "[loopback-guard]")
{
    // An ARP request for 10.0.2.2; its target field holds no destination libslirp dials.
    std::vector<uint8_t> arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x64, 10, 0, 2, 100, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1};
    CHECK(verdict(ethernet(0x0806, arp)) == Verdict::Pass);
    // A VLAN tag: libslirp reads the EtherType at bytes 12-13 only, and drops 0x8100.
    CHECK(verdict(ethernet(0x8100, std::vector<uint8_t>(60, 0))) == Verdict::Pass);
    CHECK(verdict(ethernet(0x88cc, {})) == Verdict::Pass);
}

TEST_CASE("short frames: runts pass to libslirp's own check, truncated IP packets are dropped", "[loopback-guard]")
{
    CHECK(verdict({}) == Verdict::Pass);
    CHECK(verdict(std::vector<uint8_t>(13, 0)) == Verdict::Pass);
    // IPv4: the destination ends at byte 14 + 20; one byte short cannot be judged.
    auto v4 = ipv4_frame("10.0.2.2");
    CHECK(verdict(std::vector<uint8_t>(v4.begin(), v4.begin() + 14 + 20)) == Verdict::Pass);
    CHECK(verdict(std::vector<uint8_t>(v4.begin(), v4.begin() + 14 + 19)) == Verdict::Truncated);
    CHECK(verdict(std::vector<uint8_t>(v4.begin(), v4.begin() + 14)) == Verdict::Truncated);
    auto v4_loopback = ipv4_frame("127.0.0.1");
    CHECK(verdict(std::vector<uint8_t>(v4_loopback.begin(), v4_loopback.begin() + 14 + 20)) == Verdict::Loopback);
    // IPv6: the destination ends at byte 14 + 40.
    auto v6 = ipv6_frame("fd00::2");
    CHECK(verdict(std::vector<uint8_t>(v6.begin(), v6.begin() + 14 + 40)) == Verdict::Pass);
    CHECK(verdict(std::vector<uint8_t>(v6.begin(), v6.begin() + 14 + 39)) == Verdict::Truncated);
    auto v6_loopback = ipv6_frame("::1");
    CHECK(verdict(std::vector<uint8_t>(v6_loopback.begin(), v6_loopback.begin() + 14 + 40)) == Verdict::Loopback);
}

TEST_CASE("the judgement names the destination for the log", "[loopback-guard]")
{
    CHECK(describe(judge(ipv4_frame("127.0.0.1"))) == "127.0.0.1");
    CHECK(describe(judge(ipv4_frame("0.0.0.0"))) == "0.0.0.0");
    CHECK(describe(judge(ipv6_frame("::ffff:127.0.0.1"))) == "::ffff:127.0.0.1");
    CHECK(describe(judge(ipv6_frame("::1"))) == "::1");
    const auto whole = ipv4_frame("127.0.0.1");
    const auto truncated = judge(std::vector<uint8_t>(whole.begin(), whole.begin() + 20));
    CHECK(truncated.verdict == Verdict::Truncated);
    CHECK(describe(truncated) == "a truncated IP packet");
}

TEST_CASE("the address predicates on their own", "[loopback-guard]")
{
    in_addr v4{};
    inet_pton(AF_INET, "127.0.0.1", &v4);
    CHECK(blocked(v4));
    inet_pton(AF_INET, "10.0.2.2", &v4);
    CHECK_FALSE(blocked(v4));
    in6_addr v6{};
    CHECK(blocked(v6));  // ::
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6);
    CHECK(blocked(v6));
    inet_pton(AF_INET6, "fd00::2", &v6);
    CHECK_FALSE(blocked(v6));
}
