// The loopback guard: judges each Ethernet frame the namespace writes to tap0 before
// libslirp sees it. libslirp connect()s and sendto()s on the guest's behalf to whatever
// destination a frame names, and its disable_host_loopback only rewrites 10.0.2.2 and
// fd00::2: a command with --map-root (CAP_NET_RAW, CAP_NET_ADMIN in the namespace) can
// address 127.0.0.1 on tap0 directly. docs/design.md ("The loopback guard") says why
// the check is here.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace portwrap::loopback_guard {

enum class Verdict {
    Pass,       // not IP (ARP, anything libslirp ignores), or an IP packet to elsewhere
    Loopback,   // an IP packet to a loopback or unspecified address of the host: drop
    Truncated,  // too short to hold its IP destination: drop (libslirp would too)
};

struct Judgement {
    Verdict verdict = Verdict::Pass;
    int family = AF_UNSPEC;                 // AF_INET or AF_INET6 once a destination was read
    std::array<uint8_t, 16> destination{};  // that destination (the first 4 bytes for IPv4)
};

// 127.0.0.0/8 and 0.0.0.0/8 (network byte order in `address`).
bool blocked(const in_addr& address) noexcept;
// ::1, ::, and the IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d)
// forms of the IPv4 ranges above.
bool blocked(const in6_addr& address) noexcept;

// Reads the frame as libslirp does: Ethernet II, the EtherType at bytes 12-13 picks
// IPv4 (0x0800) or IPv6 (0x86dd), the destination sits in the fixed IP header (IPv4
// options and IPv6 extension headers come after it and do not matter).
Judgement judge(std::span<const uint8_t> frame) noexcept;

// The destination as text ("127.0.0.1", "::ffff:127.0.0.1"), or what the frame was.
std::string describe(const Judgement& judgement);

}  // namespace portwrap::loopback_guard
