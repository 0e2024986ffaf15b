#include "loopback_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace portwrap::loopback_guard {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr size_t kIpv4DestinationOffset = 16;  // in the IPv4 header, whatever its options
constexpr size_t kIpv6DestinationOffset = 24;

// The first byte of an IPv4 address in 0.0.0.0/8 or 127.0.0.0/8.
bool blocked_first_octet(uint8_t octet) noexcept
{
    return octet == 0 || octet == 127;
}

}  // namespace

bool blocked(const in_addr& address) noexcept
{
    uint8_t bytes[4];
    std::memcpy(bytes, &address, sizeof bytes);
    return blocked_first_octet(bytes[0]);
}

bool blocked(const in6_addr& address) noexcept
{
    const uint8_t* b = address.s6_addr;
    const bool zeros_to_10 = std::all_of(b, b + 10, [](uint8_t byte) { return byte == 0; });
    if (!zeros_to_10)
        return false;
    // ::a.b.c.d (IPv4-compatible) covers :: and ::1 too: they are ::0.0.0.0 and ::0.0.0.1.
    const bool compatible = b[10] == 0 && b[11] == 0;
    const bool mapped = b[10] == 0xff && b[11] == 0xff;  // a v6 socket's way to IPv4
    return (compatible || mapped) && blocked_first_octet(b[12]);
}

Judgement judge(std::span<const uint8_t> frame) noexcept
{
    Judgement judgement;
    if (frame.size() < kEthernetHeader)
        return judgement;  // libslirp ignores runts
    const uint16_t ether_type = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
    const auto ip = frame.subspan(kEthernetHeader);
    if (ether_type == kEtherTypeIpv4) {
        if (ip.size() < kIpv4DestinationOffset + 4) {
            judgement.verdict = Verdict::Truncated;
            return judgement;
        }
        judgement.family = AF_INET;
        std::copy_n(ip.begin() + kIpv4DestinationOffset, 4, judgement.destination.begin());
        in_addr destination;
        std::memcpy(&destination, judgement.destination.data(), sizeof destination);
        if (blocked(destination))
            judgement.verdict = Verdict::Loopback;
    } else if (ether_type == kEtherTypeIpv6) {
        if (ip.size() < kIpv6DestinationOffset + 16) {
            judgement.verdict = Verdict::Truncated;
            return judgement;
        }
        judgement.family = AF_INET6;
        std::copy_n(ip.begin() + kIpv6DestinationOffset, 16, judgement.destination.begin());
        in6_addr destination;
        std::memcpy(&destination, judgement.destination.data(), sizeof destination);
        if (blocked(destination))
            judgement.verdict = Verdict::Loopback;
    }
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
