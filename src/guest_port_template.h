// Placeholders: "{guest-port}", "{host}" and "{host-port}" in the command's
// arguments, "{host}" and "{port}" in the --print-url template; and the environment
// variables that tell the command its forwards' host sides. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace portwrap {

inline constexpr const char* kGuestPortPlaceholder = "{guest-port}";

// The command's environment variables about its forwards (docs/design.md, "The host
// side in the command's hands").
inline constexpr const char* kHostSideVariable = "PORTWRAP_HOST";          // first forward's host side
inline constexpr const char* kHostPortVariable = "PORTWRAP_HOST_PORT";     // its port (not for unix:)
inline constexpr const char* kForwardsVariable = "PORTWRAP_FORWARDS";      // every forward, as ctl list says

// Returns args with every occurrence of "{guest-port}" replaced by guest_port.
std::vector<std::string> expand_guest_port(const std::vector<std::string>& args, uint16_t guest_port);

// Returns args with "{host}" replaced by `host_side` (the first forward's, as
// --port-file writes it: "127.0.0.1:40123", "[::1]:40123", "unix:PATH") and
// "{host-port}" by its port ("" for a Unix socket). An empty host_side (no forward)
// replaces both with "".
std::vector<std::string> expand_host_side(const std::vector<std::string>& args, const std::string& host_side);

// What the Go message carries into the command's environment ("NAME=VALUE", each
// ended by a NUL): PORTWRAP_HOST and PORTWRAP_HOST_PORT for the first of host_sides,
// PORTWRAP_FORWARDS with the `listed` forwards joined by spaces. Empty when there is
// no forward. A name without "=VALUE" means: unset it (PORTWRAP_HOST_PORT for a Unix
// socket).
std::string forward_environment(const std::vector<std::string>& host_sides, const std::vector<std::string>& listed);

// The --print-url template with "{host}" replaced by `host_side` (such as
// "127.0.0.1:40123" or "[::1]:40123"; for "unix:PATH", PATH) and "{port}" by its port
// ("40123"; "" for a Unix socket).
std::string expand_url(const std::string& url_template, const std::string& host_side);

}  // namespace portwrap
