// The TAP device inside the namespace: the guest side of the libslirp network.
#pragma once

#include <string>

#include "unique_fd.h"

namespace portwrap {

// Opens /dev/net/tun and creates a TAP device (IFF_TAP | IFF_NO_PI) called `name`.
// The fd is non-blocking and close-on-exec. Throws Error with the cause.
UniqueFd open_tap(const std::string& name);

}  // namespace portwrap
