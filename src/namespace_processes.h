// The processes still inside the namespace after the command has exited. Without a
// PID namespace they are found by their network namespace in /proc.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

namespace portwrap::namespace_processes {

// Identifies a network namespace (the nsfs inode behind /proc/PID/ns/net).
struct NamespaceId {
    dev_t device = 0;
    ino_t inode = 0;
    bool operator==(const NamespaceId&) const = default;
};

std::optional<NamespaceId> network_namespace_of(pid_t pid);

// Live processes whose network namespace is `ns` (those portwrap may inspect).
std::vector<pid_t> list(const NamespaceId& ns);

// Sends SIGTERM to every process in `ns`, then SIGKILL to those still there after
// grace_ms, and reaps the ones that were re-parented to portwrap (it is their
// subreaper). Waits on SIGCHLD through signal_fd (a signalfd with SIGCHLD blocked),
// not by sleeping. When portwrap has no child left in another network namespace, no
// process can be left in ns and /proc is not read at all. Returns how many processes
// it found.
size_t end_all(const NamespaceId& ns, int grace_ms, int signal_fd);

// Waits up to timeout_ms for portwrap's own child `pid` to end, reaping it, woken by
// SIGCHLD through signal_fd. Returns false if it is still running.
bool reap(pid_t pid, int timeout_ms, int signal_fd);

}  // namespace portwrap::namespace_processes
