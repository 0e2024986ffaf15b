// Confines portwrap's own process once the command runs: from then on it only relays
// packets and sockets, so a bug in libslirp's packet parsing (the code that reads
// what the namespace sends) cannot exec programs or write files as the user.
#pragma once

namespace portwrap::sandbox {

// Sets PR_SET_NO_NEW_PRIVS and installs the event loop's seccomp allow-list
// (sandbox_policies.h, docs/security.md). Throws Error if the kernel refuses.
// Handoff: also allow what the handoff driver needs to answer the command's binds
// (handoff.h): the seccomp notification ioctls, pidfd_open, pidfd_getfd and
// process_vm_readv, each limited by the kernel to processes portwrap may ptrace.
void confine(bool handoff = false);

// With PORTWRAP_SANDBOX_SELFTEST=PATH in the environment, tries what the sandbox
// forbids — creating PATH for writing; Unix, netlink and raw sockets and a Unix
// socketpair; connecting to the Unix socket PATH.sock; executing /bin/true — and
// reports each outcome on stderr. The integration tests use it to prove the filter
// works.
void self_test_if_requested();

}  // namespace portwrap::sandbox
