// --pid-ns: the command runs in a new PID namespace whose first process (PID 1) is
// portwrap's namespace child, turned into a minimal init once the command is started.
// When the init exits, the kernel kills every process left in the namespace.
// See docs/design.md, "PID namespace (--pid-ns)".
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "stop_policy.h"

namespace portwrap::pid_namespace {

// In the namespace child, before the command runs: makes the mount namespace private
// (unshare(CLONE_NEWNS); its mounts stay slaves of the host's) and mounts a proc for the
// new PID namespace on /proc, so that ps, pgrep, /proc/PID and psutil inside see the
// namespace's own processes and PIDs. Throws Error.
void mount_proc();

// In the init, right before it forks the command: takes the forwarded signals that
// are pending (blocked) for it. A terminal's Ctrl-C during start-up went to the init,
// not to a command that did not exist yet, and fork() does not pass pending signals
// on; without a PID namespace the command itself would have it pending, and get it
// as it unblocks. Give the result to raise_in_command().
sigset_t take_pending_signals() noexcept;

// In the command's process, before it restores its signal mask: makes the signals
// that take_pending_signals() took pending for itself.
void raise_in_command(const sigset_t& signals) noexcept;

// The init's loop, run by PID 1 of the namespace once it has forked the command
// (`command`, a child of the caller). It closes every fd but 0, 1 and 2, forwards the
// forwarded signals (signals.h) that it receives to the command — except those a
// terminal sent, which the command got already — and reaps every child. When the
// command has ended it sends SIGTERM to all that is left, waits up to
// policy.leftover_grace_ms for them to go, and exits with the command's status: its
// exit code, or 128+N if signal N killed it. With policy.forward_signals false it
// forwards nothing: the job-wide kill that reached the init reached the command too.
// The signals it handles must be blocked already.
[[noreturn]] void run_init(pid_t command, const StopPolicy& policy) noexcept;

}  // namespace portwrap::pid_namespace
