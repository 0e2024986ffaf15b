// The messages on the parent<->child socketpair (SOCK_SEQPACKET: one message per send,
// never merged or split). See docs/design.md for the sequence.
#pragma once

#include <cstdint>
#include <string>

#include "unique_fd.h"

namespace portwrap::handshake {

enum class ToChild : uint8_t {
    MapsWritten = 'M',  // uid_map/gid_map are in place: the child's ids are real now
    Go = 'G',           // the forward is listening: exec the command
};

enum class ToParentKind : uint32_t {
    Ready = 1,       // network configured; carries the TAP fd
    Failed = 2,      // set-up failed: text says what, exit status 125
    ExecFailed = 3,  // execvp failed: text says what, exit_status is 126 or 127
    HandoffListener = 4,  // right after Ready, handoff driver only: carries the seccomp listener fd
};

struct ToParent {
    ToParentKind kind = ToParentKind::Failed;
    int32_t exit_status = 0;
    int32_t connector_pid = 0;  // Ready: the connector's pid, 0 when there is none
    char text[480] = {};  // one line, NUL-terminated, truncated if longer

    static ToParent make(ToParentKind kind, int exit_status, const std::string& text) noexcept;
};

// Both return false with errno set on failure. fd_to_pass < 0 sends no fd.
bool send_to_child(int socket, ToChild message) noexcept;
bool send_to_parent(int socket, const ToParent& message, int fd_to_pass = -1) noexcept;

enum class Received { Message, EndOfFile, Error };

// Waits for one byte from the parent. EndOfFile: the parent is gone or gave up.
Received receive_from_parent(int socket, ToChild& message) noexcept;
// Waits for one message from the child; a passed fd lands in `passed_fd`.
// EndOfFile: the child closed its end (on a successful exec, CLOEXEC does that).
Received receive_from_child(int socket, ToParent& message, UniqueFd& passed_fd) noexcept;

}  // namespace portwrap::handshake
