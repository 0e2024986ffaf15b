// Pipes and socket pairs, each end in its own UniqueFd: the one place portwrap calls
// pipe2() and socketpair(), so no end is ever a bare int.
#pragma once

#include "unique_fd.h"

namespace portwrap {

struct PipeEnds {
    UniqueFd read;
    UniqueFd write;
    explicit operator bool() const noexcept { return read.valid() && write.valid(); }
};

struct SocketPair {
    UniqueFd first;
    UniqueFd second;
    explicit operator bool() const noexcept { return first.valid() && second.valid(); }
};

// pipe2(flags). On failure both ends are invalid and errno is pipe2()'s: no throw, so
// the relay's pipe pool can call it in the event loop (docs/design.md, "Errors").
PipeEnds make_pipe(int flags) noexcept;

// socketpair(AF_UNIX, type) (add SOCK_CLOEXEC, SOCK_NONBLOCK to `type` as wanted). On
// failure both ends are invalid and errno is socketpair()'s.
SocketPair make_socket_pair(int type) noexcept;

}  // namespace portwrap
