// portwrap --check, the part that looks at the machine: it reads the files and
// sysctls a launch depends on, then runs a launch's own start-up (launcher.h,
// Launcher::Probe) in throwaway namespaces (clone, the id maps as a launch writes them,
// tap0 on /dev/net/tun, the rtnetlink set-up), and prints self_check's verdicts.
#pragma once

#include "self_check.h"

namespace portwrap::self_check {

// Everything assess() needs, from this machine, for the user running portwrap.
Facts gather_facts();

// Prints one line per item and the summary on stdout; returns the exit status
// (0: a launch would work, 1: it would not).
int run();

}  // namespace portwrap::self_check
