#include "forward_spec.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>

namespace portwrap::forward {

int parse_port_number(std::string_view text)
{
    if (text.empty() || text.size() > 5)
        return -1;
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return -1;
        value = value * 10 + (c - '0');
    }
    return value <= 65535 ? value : -1;
}

std::string quoted(std::string_view text)
{
    return "'" + std::string(text) + "'";
}

namespace {

// "HOST_PORT[:GUEST_PORT]" into the spec; an error message or "".
std::string parse_ports(std::string_view text, std::string_view whole, Spec& spec)
{
    std::string_view host = text, guest;
    if (size_t colon = text.find(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        guest = text.substr(colon + 1);
        if (guest.find(':') != std::string_view::npos)
            return "invalid forward " + quoted(whole) + ": too many ':' (write an IPv6 address in brackets)";
    }
    int host_port = parse_port_number(host);
    if (host_port < 0)
        return "invalid host port " + quoted(host) + " in " + quoted(whole) +
               ": expected a number from 0 (any free port) to 65535";
    spec.host_port = static_cast<uint16_t>(host_port);
    if (text.size() > host.size()) {
        int guest_port = parse_port_number(guest);
        if (guest_port <= 0)
            return "invalid guest port " + quoted(guest) + " in " + quoted(whole) +
                   ": expected a number from 1 to 65535";
        spec.guest_port = static_cast<uint16_t>(guest_port);
    }
    return "";
}

}  // namespace

bool parse_address(const std::string& text, bool* ipv6)
{
    in6_addr unused;
    if (inet_pton(AF_INET, text.c_str(), &unused) == 1) {
        *ipv6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, text.c_str(), &unused) == 1) {
        *ipv6 = true;
        return true;
    }
    return false;
}

std::variant<Spec, std::string> parse(std::string_view text, const std::string& default_addr)
{
    const std::string_view whole = text;
    Spec spec;
    if (text.ends_with("/udp") || text.ends_with("/tcp")) {
        spec.protocol = text.ends_with("/udp") ? Protocol::Udp : Protocol::Tcp;
        text.remove_suffix(4);
    }

    if (text.starts_with("unix:")) {
        std::string_view path = text.substr(5);
        // A trailing ":NUMBER" is the guest port; any other ':' belongs to the path.
        if (size_t colon = path.rfind(':'); colon != std::string_view::npos) {
            std::string_view tail = path.substr(colon + 1);
            if (!tail.empty() && tail.find_first_not_of("0123456789") == std::string_view::npos) {
                int guest_port = parse_port_number(tail);
                if (guest_port <= 0)
                    return "invalid guest port " + quoted(tail) + " in " + quoted(whole) +
                           ": expected a number from 1 to 65535";
                spec.guest_port = static_cast<uint16_t>(guest_port);
                path = path.substr(0, colon);
            }
        }
        if (path.empty())
            return "invalid forward " + quoted(whole) + ": the Unix socket path is empty";
        if (path.size() >= sizeof(sockaddr_un::sun_path))
            return "invalid forward " + quoted(whole) + ": the Unix socket path is longer than " +
                   std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes";
        if (path.find('\0') != std::string_view::npos)
            return "invalid forward " + quoted(whole) + ": the path holds a NUL byte";
        if (spec.protocol == Protocol::Udp)
            return "invalid forward " + quoted(whole) + ": a Unix socket forward carries TCP only";
        spec.unix_path = std::string(path);
        return spec;
    }

    std::string_view ports = text;
    std::string addr = default_addr;
    if (!text.starts_with("[") && std::count(text.begin(), text.end(), ':') > 2)
        return "invalid forward " + quoted(whole) + ": too many ':' (write an IPv6 address in brackets)";
    if (text.starts_with("[")) {
        size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return "invalid forward " + quoted(whole) + ": expected [IPV6-ADDRESS]:HOST_PORT[:GUEST_PORT]";
        addr = std::string(text.substr(1, close - 1));
        ports = text.substr(close + 2);
        bool ipv6 = false;
        if (!parse_address(addr, &ipv6) || !ipv6)
            return "invalid IPv6 address " + quoted(addr) + " in " + quoted(whole);
    } else if (size_t first = text.find(':');
               first != std::string_view::npos && (text.find(':', first + 1) != std::string_view::npos ||
                                                   text.substr(0, first).find('.') != std::string_view::npos)) {
        // ADDR:HOST:GUEST, or ADDR:HOST (an address has dots, a port has none)
        addr = std::string(text.substr(0, first));
        ports = text.substr(first + 1);
        bool ipv6 = false;
        if (!parse_address(addr, &ipv6) || ipv6)
            return "invalid address " + quoted(addr) + " in " + quoted(whole) +
                   ": expected a numeric IPv4 address, or an IPv6 address in brackets";
    }
    if (std::string error = parse_ports(ports, whole, spec); !error.empty())
        return error;
    if (!parse_address(addr, &spec.ipv6))
        return "invalid host address " + quoted(addr) + ": expected a numeric IPv4 or IPv6 address";
    // One spelling per address ("0:0::1" is "::1"), so host sides compare as text.
    in6_addr binary{};
    char canonical[INET6_ADDRSTRLEN] = "";
    const int family = spec.ipv6 ? AF_INET6 : AF_INET;
    inet_pton(family, addr.c_str(), &binary);
    inet_ntop(family, &binary, canonical, sizeof canonical);
    spec.host_addr = canonical;
    return spec;
}

std::string host_side(const Spec& spec)
{
    if (!spec.unix_path.empty())
        return "unix:" + spec.unix_path;
    const std::string addr = spec.ipv6 ? "[" + spec.host_addr + "]" : spec.host_addr;
    return addr + ":" + std::to_string(spec.host_port);
}

const char* protocol_name(Protocol protocol)
{
    return protocol == Protocol::Udp ? "udp" : "tcp";
}

}  // namespace portwrap::forward
