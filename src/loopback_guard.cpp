#include "loopback_guard.h"

#include <arpa/inet.h>

#include <algorithm>

namespace portwrap::loopback_guard {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
// Where the destination sits in the IP header (IPv4: whatever its options).
constexpr size_t kIpv4DestinationOffset = 16;
constexpr size_t kIpv6DestinationOffset = 24;

// An IPv4 address (4 bytes, network order) in 0.0.0.0/8 or 127.0.0.0/8.
bool blocked_ipv4(const uint8_t* address) noexcept
{
    return address[0] == 0 || address[0] == 127;
}

// An IPv6 address (16 bytes): ::a.b.c.d (IPv4-compatible; :: and ::1 are ::0.0.0.0 and
// ::0.0.0.1) or ::ffff:a.b.c.d (IPv4-mapped: a v6 socket's way to IPv4) with a.b.c.d
// blocked.
bool blocked_ipv6(const uint8_t* address) noexcept
{
    if (!std::all_of(address, address + 10, [](uint8_t byte) { return byte == 0; }))
        return false;
    const bool compatible = address[10] == 0 && address[11] == 0;
    const bool mapped = address[10] == 0xff && address[11] == 0xff;
    return (compatible || mapped) && blocked_ipv4(address + 12);
}

}  // namespace

bool blocked(const in_addr& address) noexcept
{
    return blocked_ipv4(reinterpret_cast<const uint8_t*>(&address.s_addr));
}

bool blocked(const in6_addr& address) noexcept
{
    return blocked_ipv6(address.s6_addr);
}

Judgement judge(std::span<const uint8_t> frame) noexcept
{
    Judgement judgement;
    if (frame.size() < kEthernetHeader)
        return judgement;  // libslirp ignores runts
    const uint16_t ether_type = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
    const bool ipv4 = ether_type == kEtherTypeIpv4;
    if (!ipv4 && ether_type != kEtherTypeIpv6)
        return judgement;
    const size_t offset = kEthernetHeader + (ipv4 ? kIpv4DestinationOffset : kIpv6DestinationOffset);
    const size_t length = ipv4 ? 4 : 16;
    if (frame.size() < offset + length) {
        judgement.verdict = Verdict::Truncated;
        return judgement;
    }
    judgement.family = ipv4 ? AF_INET : AF_INET6;
    std::copy_n(frame.begin() + offset, length, judgement.destination.begin());
    const uint8_t* destination = judgement.destination.data();
    if (ipv4 ? blocked_ipv4(destination) : blocked_ipv6(destination))
        judgement.verdict = Verdict::Loopback;
    return judgement;
}

std::string describe(const Judgement& judgement)
{
    if (judgement.family == AF_UNSPEC)
        return judgement.verdict == Verdict::Truncated ? "a truncated IP packet" : "a frame without IP";
    char text[INET6_ADDRSTRLEN] = "";
    inet_ntop(judgement.family, judgement.destination.data(), text, sizeof text);
    return text;
}

}  // namespace portwrap::loopback_guard
