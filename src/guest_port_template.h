// Placeholders: "{guest-port}" in the command's arguments, "{host}" and "{port}" in
// the --print-url template. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace portwrap {

inline constexpr const char* kGuestPortPlaceholder = "{guest-port}";

// Returns args with every occurrence of "{guest-port}" replaced by guest_port.
std::vector<std::string> expand_guest_port(const std::vector<std::string>& args, uint16_t guest_port);

// The --print-url template with "{host}" replaced by `host_side` (such as
// "127.0.0.1:40123" or "[::1]:40123"; for "unix:PATH", PATH) and "{port}" by its port
// ("40123"; "" for a Unix socket).
std::string expand_url(const std::string& url_template, const std::string& host_side);

}  // namespace portwrap
