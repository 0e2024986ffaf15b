// The fixed network plan inside the namespace (the addresses slirp4netns made familiar)
// and the set-up that applies it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace portwrap::guest_network {

inline constexpr const char* kTapName = "tap0";
inline constexpr const char* kNetwork = "10.0.2.0";
inline constexpr const char* kNetmask = "255.255.255.0";
inline constexpr uint8_t kPrefixLength = 24;
inline constexpr const char* kGuestAddress = "10.0.2.100";  // the namespace's address
inline constexpr const char* kGateway = "10.0.2.2";         // libslirp's host side
inline constexpr const char* kNameserver = "10.0.2.3";      // libslirp's DNS forwarder
inline constexpr const char* kDhcpStart = "10.0.2.15";      // unused (no DHCP client) but required
// IPv6: libslirp's prefix, with fixed addresses like the IPv4 ones.
inline constexpr const char* kNetwork6 = "fd00::";
inline constexpr uint8_t kPrefixLength6 = 64;
inline constexpr const char* kGuestAddress6 = "fd00::100";
inline constexpr const char* kGateway6 = "fd00::2";
inline constexpr const char* kNameserver6 = "fd00::3";
// tap0's MTU, and libslirp's. Larger frames cost less per byte, but libslirp 4.7 (no
// window scaling: windows of at most 65535) sends a window update only once it can
// open the window by two of its segments (tcp_output). With a larger segment the
// namespace's kernel, offered a window smaller than one of its own segments, waits
// for its persist timer (200 ms and more) instead: stalls in the middle of a
// download by a slow host client, and at the command's exit the drain took that
// silence for the end and lost what was still in the namespace's socket buffer.
// With segments (MTU - 40: IPv4 and TCP headers) of at most 65536 / 3 bytes, the
// update comes as soon as libslirp has passed the data on.
inline constexpr uint32_t kMtu = 21885;
static_assert(3 * (kMtu - 40) <= 65536, "libslirp would not send the window updates the namespace waits for");

in_addr address(const char* dotted);  // one of the constants above, parsed
in6_addr address6(const char* text);  // one of the IPv6 constants above, parsed

// The guest's own address on tap0 (kGuestAddress, or kGuestAddress6) with `port`:
// where libslirp delivers forwarded connections. Sets *length.
sockaddr_storage guest_socket_address(bool ipv6, uint16_t port, socklen_t* length);

// Inside the new network namespace: lo up; tap0 MTU, address, up; default route;
// the same for IPv6 unless the kernel has IPv6 off. Router advertisements are
// ignored: the fixed address and route are usable at once, without waiting for
// autoconfiguration. Returns 0, or the errno of the step that failed, which
// `failed_step` names ("cannot bring up lo (rtnetlink)"). Throws nothing but bad_alloc.
int configure(int tap_ifindex, std::string& failed_step);

}  // namespace portwrap::guest_network
