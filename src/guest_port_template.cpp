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

std::string expand_url(const std::string& url_template, const std::string& host_side)
{
    const bool unix_socket = host_side.rfind("unix:", 0) == 0;
    const size_t colon = host_side.rfind(':');
    const std::string port = unix_socket || colon == std::string::npos ? "" : host_side.substr(colon + 1);
    const std::string host = unix_socket ? host_side.substr(5) : host_side;  // a socket: its path
    return replace_all(replace_all(url_template, "{host}", host), "{port}", port);
}

}  // namespace portwrap
