// Why a start-up failed, as data: the step (Stage) and its errno, plus a short detail
// naming what was tried. The child sends it over the start-up socket (handshake.h),
// the parent makes the user's one line from it, and --check turns it into verdicts.
// The hint for the user is one function of (stage, errno): nothing here or in its
// users looks inside message text.
#pragma once

#include <cstdint>
#include <string>

#include "error.h"

namespace portwrap::start {

// The steps of a start-up, in order (docs/design.md, "Start-up handshake"). The
// values cross the socket: append, never renumber.
enum class Stage : uint32_t {
    None = 0,            // nothing failed
    Clone = 1,           // parent: clone() into new user and network namespaces
    IdMap = 2,           // parent: newuidmap/newgidmap, or the single-id map (detail: their words)
    OpenTun = 3,         // child: open /dev/net/tun
    TunSetIff = 4,       // child: TUNSETIFF, creating tap0
    FindTap = 5,         // child: tap0's interface index
    Network = 6,         // child: the rtnetlink set-up of lo, tap0 and the routes (detail: the step)
    MountProc = 7,       // child, --pid-ns: a mount namespace and /proc
    ToHostListener = 8,  // child, -T: a listener inside
    Connector = 9,       // child: forking the connector
    HandoffFilter = 10,  // child: installing the handoff driver's seccomp filter
    PassFd = 11,         // child: passing an fd to portwrap
    PrepareCommand = 12, // child: the command's environment and arguments from Go
    ForkCommand = 13,    // child, --pid-ns: forking the command
    Exec = 14,           // child: execvp failed
    CommandNotFound = 15,  // child: execvp found no such command in PATH (ENOENT)
    Handshake = 16,      // parent: no valid report from the child (it died, or sent garbage)
};

inline constexpr uint32_t kLastStage = static_cast<uint32_t>(Stage::Handshake);

// Whether `value` names a Stage (a decoded report is checked with it).
bool known_stage(uint32_t value) noexcept;

// The stage's name for -v and tests ("OpenTun").
const char* stage_name(Stage stage) noexcept;

struct Failure {
    Stage stage = Stage::None;
    int err = 0;         // the failing call's errno; 0: none, or the detail already says it
    std::string detail;  // what was tried: "cannot open /dev/net/tun"
};

// A step that failed by throwing Error: its errno as data, its context as the detail
// (so the message names the errno once). An Error without errno gives err 0.
Failure failure_from(Stage stage, const Error& error);

// What to do about it, for the user; "" when there is nothing better than the message.
std::string hint(Stage stage, int err);

// The message: "DETAIL: <strerror>" ("DETAIL: command not found" for CommandNotFound).
std::string message(const Failure& failure);

// The user's one line: message and, in brackets, the hint.
std::string user_line(const Failure& failure);

// 127 for a command that does not exist, 126 for one that cannot be run, else 125.
int exit_status(const Failure& failure) noexcept;

// An Error (the user's line and exit status) that keeps the failure as data, for
// --check's verdicts.
class StartError : public Error {
public:
    explicit StartError(Failure failure)
        : Error(user_line(failure), start::exit_status(failure)), failure_(std::move(failure)) {}
    const Failure& failure() const noexcept { return failure_; }

private:
    Failure failure_;
};

}  // namespace portwrap::start
