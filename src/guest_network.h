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
// libslirp's largest MTU (IF_MTU_MAX is 65521); fewer, larger frames cost less per byte.
inline constexpr uint32_t kMtu = 65520;

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
