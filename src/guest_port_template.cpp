#include "guest_port_template.h"

#include <string_view>

namespace portwrap {

std::vector<std::string> expand_guest_port(const std::vector<std::string>& args, uint16_t guest_port)
{
    const std::string_view placeholder = kGuestPortPlaceholder;
    const std::string port = std::to_string(guest_port);
    std::vector<std::string> expanded;
    expanded.reserve(args.size());
    for (const std::string& arg : args) {
        std::string out;
        size_t from = 0;
        for (size_t at; (at = arg.find(placeholder, from)) != std::string::npos; from = at + placeholder.size())
            out.append(arg, from, at - from).append(port);
        out.append(arg, from);
        expanded.push_back(std::move(out));
    }
    return expanded;
}

}  // namespace portwrap
