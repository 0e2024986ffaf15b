// One run of a command, from the parsed options to portwrap's exit status. The
// session owns everything of the run (the namespace's launcher, libslirp, the
// connector, the forwards, the -T relays, the handoff server, the control socket,
// the readiness probe, the port file and the clean-up process), takes its decisions
// from session_policy.h, and ends it all in order. docs/design.md ("Theory of
// operation") gives the order of start-up and shutdown.
#pragma once

#include "cli.h"

namespace portwrap::session {

// Runs options.command to its end and returns the exit status for portwrap (the
// command's, or 128+N). Throws Error for a failure of portwrap's own.
int run(cli::Options options);

}  // namespace portwrap::session
