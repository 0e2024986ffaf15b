// The parent's main loop once the command runs: libslirp, the TAP and signals.
#pragma once

#include "child_process.h"
#include "slirp_session.h"

namespace portwrap::event_loop {

// Serves the forward until the command exits; forwards signals to it. Returns the
// command's wait status. Throws Error if polling itself fails.
int run(SlirpSession& slirp, int signal_fd, ChildProcess& child);

}  // namespace portwrap::event_loop
