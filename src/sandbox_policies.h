// What each of portwrap's processes may do once it runs among the namespace's
// programs: the seccomp allow-lists of the event loop and of the three helper
// processes. Each rule says why it is there; docs/security.md shows these tables, and
// a unit test checks that the document matches them.
#pragma once

#include "seccomp_filter.h"

namespace portwrap::sandbox_policies {

// portwrap's own process once the command runs (sandbox::confine).
const seccomp_filter::Policy& event_loop();
// What the handoff driver adds to it (handoff.h): shown on its own in the docs.
const seccomp_filter::Policy& handoff_additions();
// The event loop's policy with the handoff driver: event_loop() and handoff_additions().
const seccomp_filter::Policy& event_loop_with_handoff();
// The connector inside the namespace (connector.cpp), while it serves requests.
const seccomp_filter::Policy& connector();
// The clean-up process (path_janitor.cpp), while it waits and then unlinks.
const seccomp_filter::Policy& janitor();
// The --pid-ns init (pid_namespace.cpp), once the command is forked.
const seccomp_filter::Policy& pid_ns_init();

}  // namespace portwrap::sandbox_policies
