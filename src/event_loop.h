// The parent's main loop once the command runs: libslirp, the TAP and signals.
#pragma once

#include <functional>
#include <vector>

#include "child_process.h"
#include "poll_source.h"
#include "stop_policy.h"

namespace portwrap::event_loop {

// Serves the sources (libslirp, the relay) until the command exits; forwards signals to
// it as `policy` says, and SIGKILLs it policy.command_grace_ms after a stop request.
// Calls on_stop once, at the first stop request or when the command exits, whichever
// comes first. Returns the command's wait status. Throws Error if polling itself fails.
int run(const std::vector<PollSource*>& sources, int signal_fd, ChildProcess& child, const StopPolicy& policy,
        const std::function<void()>& on_stop);

}  // namespace portwrap::event_loop
