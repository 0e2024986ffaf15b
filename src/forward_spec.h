// One forward as the user writes it after -p: which host endpoint (an IP address and
// port, or a Unix socket path), which port inside, TCP or UDP. Pure: no I/O.
//
//   -p [ADDR:]HOST_PORT[:GUEST_PORT][/tcp|/udp]     ADDR: IPv4, or IPv6 in brackets
//                                                    (A:B is HOST:GUEST, unless A has dots)
//   -p unix:PATH[:GUEST_PORT]                        a Unix socket (TCP only)
//
// HOST_PORT 0 asks for a free port. Without GUEST_PORT, -P/--guest-port supplies it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace portwrap::forward {

enum class Protocol { Tcp, Udp };

struct Spec {
    Protocol protocol = Protocol::Tcp;
    std::string unix_path;      // not empty: the host side is this Unix socket
    bool ipv6 = false;          // host_addr is an IPv6 address
    std::string host_addr;      // numeric, as given (no brackets); empty for Unix
    uint16_t host_port = 0;     // 0: pick a free port
    uint16_t guest_port = 0;    // 0: not given here (take -P's)
    bool operator==(const Spec&) const = default;
};

// Parses one -p value. `default_addr` (from --host-addr, numeric) applies when the
// value names no address. Returns the spec or a one-line error message.
std::variant<Spec, std::string> parse(std::string_view text, const std::string& default_addr);

// True if `text` is a numeric IPv4 or IPv6 address; sets *ipv6 accordingly.
bool parse_address(const std::string& text, bool* ipv6);

// A port number 0..65535 in plain decimal; -1 for anything else (-T's parser too).
int parse_port_number(std::string_view text);
// `text` in single quotes, as the parse errors quote what the user wrote.
std::string quoted(std::string_view text);

// The host side as people write it: "127.0.0.1:9876", "[::1]:9876", "unix:/run/x.sock".
std::string host_side(const Spec& spec);
// "tcp" or "udp".
const char* protocol_name(Protocol protocol);

}  // namespace portwrap::forward
