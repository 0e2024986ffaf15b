#include "guest_port_template.h"

#include <string_view>

namespace portwrap {
namespace {

std::string replace_all(const std::string& text, std::string_view placeholder, const std::string& value)
{
    std::string out;
    size_t from = 0;
    for (size_t at; (at = text.find(placeholder, from)) != std::string::npos; from = at + placeholder.size())
        out.append(text, from, at - from).append(value);
    out.append(text, from);
    return out;
}

}  // namespace

std::vector<std::string> expand_guest_port(const std::vector<std::string>& args, uint16_t guest_port)
{
    const std::string port = std::to_string(guest_port);
    std::vector<std::string> expanded;
    expanded.reserve(args.size());
    for (const std::string& arg : args)
        expanded.push_back(replace_all(arg, kGuestPortPlaceholder, port));
    return expanded;
}

namespace {

// "40123" of "127.0.0.1:40123" or "[::1]:40123"; "" for "unix:PATH" or "".
std::string port_of(const std::string& host_side)
{
    const size_t colon = host_side.rfind(':');
    if (host_side.rfind("unix:", 0) == 0 || colon == std::string::npos)
        return "";
    std::string port = host_side.substr(colon + 1);
    if (const size_t slash = port.find('/'); slash != std::string::npos)
        port.resize(slash);  // "5353/udp"
    return port;
}

}  // namespace

std::vector<std::string> expand_host_side(const std::vector<std::string>& args, const std::string& host_side)
{
    const std::string port = port_of(host_side);
    std::vector<std::string> expanded;
    expanded.reserve(args.size());
    for (const std::string& arg : args)
        expanded.push_back(replace_all(replace_all(arg, "{host-port}", port), "{host}", host_side));
    return expanded;
}

std::string forward_environment(const std::vector<std::string>& host_sides, const std::vector<std::string>& listed)
{
    if (host_sides.empty())
        return "";
    std::string environment = std::string(kHostSideVariable) + "=" + host_sides.front() + '\0';
    // A Unix socket has no port: the name alone unsets one inherited from outside.
    const std::string port = port_of(host_sides.front());
    environment += std::string(kHostPortVariable) + (port.empty() ? "" : "=" + port) + '\0';
    std::string all;
    for (const std::string& forward : listed)
        all += (all.empty() ? "" : " ") + forward;
    environment += std::string(kForwardsVariable) + "=" + all + '\0';
    return environment;
}

std::string expand_url(const std::string& url_template, const std::string& host_side)
{
    const bool unix_socket = host_side.rfind("unix:", 0) == 0;
    const size_t colon = host_side.rfind(':');
    const std::string port = unix_socket || colon == std::string::npos ? "" : host_side.substr(colon + 1);
    const std::string host = unix_socket ? host_side.substr(5) : host_side;  // a socket: its path
    return replace_all(replace_all(url_template, "{host}", host), "{port}", port);
}

}  // namespace portwrap
