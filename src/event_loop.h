// The parent's main loop once the command runs: libslirp, the TAP and signals.
#pragma once

#include <vector>

#include "child_process.h"
#include "poll_source.h"

namespace portwrap::event_loop {

// Serves the sources (libslirp, the relay) until the command exits; forwards signals to it. Returns the
// command's wait status. Throws Error if polling itself fails.
int run(const std::vector<PollSource*>& sources, int signal_fd, ChildProcess& child);

}  // namespace portwrap::event_loop
