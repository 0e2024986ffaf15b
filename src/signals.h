// The signals portwrap handles: which ones it blocks and reads through a signalfd, and
// which ones it forwards to the command.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include "unique_fd.h"

namespace portwrap::signals {

// SIGCHLD plus every signal in is_forwarded().
sigset_t handled_set() noexcept;

// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2.
bool is_forwarded(int signo) noexcept;

// A signal the kernel sent on behalf of a terminal (Ctrl-C, Ctrl-\, hang-up) already
// went to the whole foreground process group, the command included: forwarding it
// again would deliver it twice.
bool came_from_terminal(const signalfd_siginfo& info) noexcept;

// Blocks handled_set() and returns the mask that was in force before, which the
// child restores right before exec.
sigset_t block_handled();

// A non-blocking, close-on-exec signalfd for handled_set(). Throws Error.
UniqueFd open_signalfd();

}  // namespace portwrap::signals
