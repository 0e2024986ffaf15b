// The "{guest-port}" placeholder in the command's arguments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace portwrap {

inline constexpr const char* kGuestPortPlaceholder = "{guest-port}";

// Returns args with every occurrence of "{guest-port}" replaced by guest_port.
std::vector<std::string> expand_guest_port(const std::vector<std::string>& args, uint16_t guest_port);

}  // namespace portwrap
