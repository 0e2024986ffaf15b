// The seccomp filter of the handoff port driver (docs/design.md, "Port drivers"):
// every bind() the command makes stops and waits for portwrap, which either gives
// the caller a host socket (handoff.h) or lets the bind proceed inside. This file
// decides whether the kernel can do it, builds the filter before clone(), and
// installs it in the child.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace portwrap::handoff_filter {

// Why a launch here cannot use the handoff driver ("Linux 4.18 is older than 5.9,
// which SECCOMP_IOCTL_NOTIF_ADDFD needs"), or nullopt when it can. The test knob
// PORTWRAP_TEST_NO_HANDOFF=1 makes it say no, as an old kernel would.
std::optional<std::string> unsupported_reason();

// The filter as BPF, built with libseccomp. Run it before clone(): libseccomp
// allocates, which the child after a raw clone() must not rely on.
std::vector<sock_filter> build();

// Installs `program` on the calling thread with SECCOMP_FILTER_FLAG_NEW_LISTENER and
// no PR_SET_NO_NEW_PRIVS (the caller holds CAP_SYS_ADMIN in its user namespace).
// Returns the listener fd, or -1 with errno. Async-signal-safe: one syscall.
int install(const std::vector<sock_filter>& program) noexcept;

}  // namespace portwrap::handoff_filter
