// The messages on the parent<->child socketpair (SOCK_SEQPACKET: one message per send,
// never merged or split). See docs/design.md for the sequence.
#pragma once

#include <cstdint>
#include <string>

#include "start_failure.h"
#include "unique_fd.h"

namespace portwrap::handshake {

enum class ToChild : uint8_t {
    MapsWritten = 'M',  // uid_map/gid_map are in place: the child's ids are real now
    Go = 'G',           // the forward is listening: exec the command
};

enum class ToParentKind : uint32_t {
    Ready = 1,       // network configured; carries the TAP fd
    Failed = 2,      // a step failed (stage, err, detail); the child then exits
    // 3 was ExecFailed: an exec failure is Failed with stage Exec or CommandNotFound.
    Listener = 4,    // before Ready, one per -T listener: carries its fd, `index` says which
    HandoffListener = 5,  // right after Ready, handoff driver only: carries the seccomp listener fd
};

struct ToParent {
    ToParentKind kind = ToParentKind::Failed;
    start::Stage stage = start::Stage::None;  // Failed: the step that failed
    int32_t err = 0;            // Failed: its errno (0: the detail says it all)
    int32_t connector_pid = 0;  // Ready: the connector's pid, 0 when there is none
    int32_t index = 0;          // Listener: its place in the child's list of listeners
    uint32_t uid = 0;           // Ready: the child's uid and gid inside, once mapped
    uint32_t gid = 0;
    // Failed: what was tried; Ready: a warning for the user, or "". One line,
    // NUL-terminated, truncated if longer.
    char detail[480] = {};

    static ToParent make(ToParentKind kind, const std::string& detail = "") noexcept;
    static ToParent failed(start::Stage stage, int err, const std::string& detail) noexcept;
    // The report as a Failure; a Failed message only.
    start::Failure failure() const;
};

// The most the Go message carries: the command's added environment (see send_go).
inline constexpr size_t kMaxGoPayload = 60 * 1024;

// Both return false with errno set on failure. fd_to_pass < 0 sends no fd.
bool send_to_child(int socket, ToChild message) noexcept;
// Go, followed by `environment`: "NAME=VALUE" entries, each ended by a NUL, that the
// child adds to the command's environment (the host sides, known only now). At most
// kMaxGoPayload bytes (EMSGSIZE).
bool send_go(int socket, const std::string& environment) noexcept;
bool send_to_parent(int socket, const ToParent& message, int fd_to_pass = -1) noexcept;

enum class Received { Message, EndOfFile, Error };

// Waits for one message from the parent: its first byte in `message`, the rest (Go's
// environment) in `payload` if given. EndOfFile: the parent is gone or gave up.
Received receive_from_parent(int socket, ToChild& message, std::string* payload = nullptr) noexcept;
// Waits for one message from the child; a passed fd lands in `passed_fd`.
// EndOfFile: the child closed its end (on a successful exec, CLOEXEC does that).
// Error with errno EBADMSG: a message of the wrong size, or one that is no valid
// report (unknown kind or stage, an errno out of range); nothing of it is used.
Received receive_from_child(int socket, ToParent& message, UniqueFd& passed_fd) noexcept;

}  // namespace portwrap::handshake
