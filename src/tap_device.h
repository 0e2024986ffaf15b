// The TAP device inside the namespace: the guest side of the libslirp network.
#pragma once

#include <string>

#include "unique_fd.h"

namespace portwrap {

// Which call of open_tap failed, and its errno.
struct TapFailure {
    bool at_open = false;  // true: open("/dev/net/tun"); false: TUNSETIFF
    int err = 0;
};

inline constexpr const char* kTunPath = "/dev/net/tun";

// Opens /dev/net/tun and creates a TAP device (IFF_TAP | IFF_NO_PI) called `name`.
// The fd is non-blocking and close-on-exec. On failure: an invalid fd, and `failure`
// says which call failed (the caller knows its start-up stage; start_failure.h).
UniqueFd open_tap(const std::string& name, TapFailure& failure) noexcept;

}  // namespace portwrap
