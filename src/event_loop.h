// The parent's main loop once the command runs: one poll() over every PollSource the
// session made (the TCP and UDP relays, the forward table, libslirp and its TAP, the
// handoff notifications, the control socket, -T's relays, the readiness probe) and
// the signalfd.
#pragma once

#include <functional>
#include <vector>

#include "child_process.h"
#include "poll_source.h"
#include "stop_policy.h"

namespace portwrap::event_loop {

// Serves the sources until the command exits; forwards signals to it as `policy`
// says, and SIGKILLs it policy.command_grace_ms after a stop request.
// Calls on_stop once, at the first stop request or when the command exits, whichever
// comes first. Returns the command's wait status. Throws Error if polling itself fails.
int run(const std::vector<PollSource*>& sources, int signal_fd, ChildProcess& child, const StopPolicy& policy,
        const std::function<void()>& on_stop);

}  // namespace portwrap::event_loop
