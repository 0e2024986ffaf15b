#include "host_access.h"

#include <arpa/inet.h>

#include "forward_spec.h"

namespace portwrap::host_access {

using forward::parse_port_number;
using forward::quoted;

bool is_loopback(const std::string& text)
{
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string join(const std::string& addr, uint16_t port)
{
    const bool ipv6 = addr.find(':') != std::string::npos;
    return (ipv6 ? "[" + addr + "]" : addr) + ":" + std::to_string(port);
}

std::variant<Spec, std::string> parse(std::string_view text)
{
    Spec spec;
    std::string_view rest = text;
    // An address first: "[IPV6]:" or "A.B.C.D:" (a first part with dots).
    if (!rest.empty() && rest.front() == '[') {
        const size_t close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
            return "invalid -T " + quoted(text) + ": write an IPv6 address as [::1]:GUEST_PORT";
        spec.guest_addr = std::string(rest.substr(1, close - 1));
        rest = rest.substr(close + 2);
    } else if (const size_t colon = rest.find(':');
               colon != std::string_view::npos && rest.substr(0, colon).find('.') != std::string_view::npos) {
        spec.guest_addr = std::string(rest.substr(0, colon));
        rest = rest.substr(colon + 1);
    }
    if (!spec.guest_addr.empty() && !is_loopback(spec.guest_addr))
        return "invalid address " + quoted(spec.guest_addr) + " in -T " + quoted(text) +
               ": expected a loopback address (127.0.0.1, another 127.x.y.z, or [::1])";
    std::string_view guest = rest, host;
    if (const size_t colon = rest.find(':'); colon != std::string_view::npos) {
        guest = rest.substr(0, colon);
        host = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return "invalid -T " + quoted(text) + ": expected [GUEST_ADDR:]GUEST_PORT[:HOST_PORT]";
    }
    const int guest_port = parse_port_number(guest);
    if (guest_port <= 0)
        return "invalid guest port " + quoted(guest) + " in -T " + quoted(text) + ": expected a number from 1 to 65535";
    spec.guest_port = static_cast<uint16_t>(guest_port);
    spec.host_port = spec.guest_port;
    if (rest.size() > guest.size()) {
        const int host_port = parse_port_number(host);
        if (host_port <= 0)
            return "invalid host port " + quoted(host) + " in -T " + quoted(text) +
                   ": expected a number from 1 to 65535";
        spec.host_port = static_cast<uint16_t>(host_port);
    }
    if (!spec.guest_addr.empty())
        spec.host_addr = spec.guest_addr;
    return spec;
}

std::vector<GuestListener> guest_listeners(const Spec& spec)
{
    if (!spec.guest_addr.empty())
        return {{spec.guest_addr, spec.guest_port, false}};
    return {{"127.0.0.1", spec.guest_port, false}, {"::1", spec.guest_port, true}};
}

std::string describe(const Spec& spec)
{
    const std::string inside = spec.guest_addr.empty()
                                   ? "127.0.0.1:" + std::to_string(spec.guest_port) + " and [::1]:" +
                                         std::to_string(spec.guest_port)
                                   : join(spec.guest_addr, spec.guest_port);
    return inside + " inside -> the host's " + join(spec.host_addr, spec.host_port);
}

}  // namespace portwrap::host_access
