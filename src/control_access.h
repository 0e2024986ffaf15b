// Who may use the --control-socket, and what `add` may bind (docs/security.md,
// "The control socket").
//
// Mode 0600 keeps other users out, but the command runs as the same user and sees
// the same files: without more, it could ask for a listener on the host. So every
// connection is judged by its peer as the kernel recorded it at connect() time
// (SO_PEERCRED): the same uid as portwrap, in portwrap's own network and user
// namespaces. And `add` binds loopback addresses, or a non-loopback address only if
// the user gave that very address when portwrap started.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "forward_spec.h"

namespace portwrap::control_access {

// A namespace as /proc/PID/ns/* names it: device and inode of the nsfs file.
struct NamespaceId {
    dev_t device = 0;
    ino_t inode = 0;
    bool operator==(const NamespaceId&) const = default;
};

// portwrap's own standing, recorded before the sandbox (geteuid is not allowed there).
struct Identity {
    uid_t uid = 0;
    NamespaceId net;
    NamespaceId user;
};

// What could be learned about a peer. An unset namespace could not be read.
struct Peer {
    pid_t pid = 0;
    uid_t uid = 0;
    std::optional<NamespaceId> net;
    std::optional<NamespaceId> user;
    std::string unreadable;  // why a namespace could not be read ("" if it could)
    bool exited = false;     // it exited before it was verified: its pid may be another's now
};

// Pure: "" if `peer` may use the control socket, else the one-line reason.
std::string judge(const Peer& peer, const Identity& own);

// Pure: "" if `add` may bind spec's host address, else the one-line reason.
// `given_at_start`: --host-addr and the addresses of the -p forwards.
std::string judge_address(const forward::Spec& spec, const std::vector<std::string>& given_at_start);

// portwrap's own uid and namespaces. Throws Error.
Identity own_identity();

// Learns about the peer of the connected Unix socket `socket` and judges it.
// Runs under the sandbox: getsockopt, stat (newfstatat) and poll only.
std::string refusal(int socket, const Identity& own);

}  // namespace portwrap::control_access
