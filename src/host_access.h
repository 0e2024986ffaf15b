// Single-port access to the host: -T/--to-host makes one host loopback port reachable
// from inside the namespace, at a loopback address there, with the rest of the host's
// loopback still blocked. Pure: parsing and naming only (the listeners are made by
// the child, child.cpp; the relays by host_access_relays.h).
//
//   -T [GUEST_ADDR:]GUEST_PORT[:HOST_PORT]     GUEST_ADDR: a loopback address
//                                                (IPv6 in brackets: [::1])
//
// Without GUEST_ADDR, the command finds the port at 127.0.0.1 and (when the namespace
// has IPv6) at ::1, and both lead to the host's 127.0.0.1. With GUEST_ADDR, it leads
// to the same address on the host. HOST_PORT defaults to GUEST_PORT.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace portwrap::host_access {

struct Spec {
    std::string guest_addr;    // numeric loopback address; empty: 127.0.0.1 and ::1
    uint16_t guest_port = 0;
    std::string host_addr = "127.0.0.1";  // numeric loopback address on the host
    uint16_t host_port = 0;
    bool operator==(const Spec&) const = default;
};

// One listening address inside the namespace, as the child binds it.
struct GuestListener {
    std::string addr;  // numeric
    uint16_t port = 0;
    bool optional = false;  // ::1 of a spec without GUEST_ADDR: skipped if the namespace has no IPv6
};

// Parses one -T value. Returns the spec or a one-line error message.
std::variant<Spec, std::string> parse(std::string_view text);

// True if `text` is a numeric loopback address (127.0.0.0/8 or ::1).
bool is_loopback(const std::string& text);

// The addresses to listen on inside the namespace for `spec`.
std::vector<GuestListener> guest_listeners(const Spec& spec);

// "127.0.0.1:8081" / "[::1]:8081".
std::string join(const std::string& addr, uint16_t port);

// "127.0.0.1:8081 inside -> the host's 127.0.0.1:8081" (both loopbacks named when the
// spec has no GUEST_ADDR).
std::string describe(const Spec& spec);

}  // namespace portwrap::host_access
