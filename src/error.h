// Error: a failure that reaches the user as one line "portwrap: <message>" and an exit status.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace portwrap {

// Exit statuses of portwrap's own making (the rest come from the command).
inline constexpr int kExitSetupFailure = 125;  // portwrap itself failed or was misused
inline constexpr int kExitCannotExecute = 126;  // the command exists but could not be run
inline constexpr int kExitNotFound = 127;       // the command was not found

// The one way a failure leaves a function in src/ (docs/design.md, "Errors"). `err`:
// the errno of the system call that failed (throw_errno sets it), 0 if none did; a
// caller that treats some causes as normal branches on it, never on the text.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, int exit_status = kExitSetupFailure, int err = 0)
        : std::runtime_error(message), exit_status_(exit_status), errno_(err), context_(message) {}
    // throw_errno's: the message is "<context>: <strerror(err)>".
    static Error from_errno(const std::string& context, int err, int exit_status = kExitSetupFailure);
    int exit_status() const noexcept { return exit_status_; }
    int errno_value() const noexcept { return errno_; }
    // What failed without the errno's text (throw_errno's context), for a report that
    // carries the errno as data (start_failure.h); the message when made without one.
    const std::string& context() const noexcept { return context_; }

private:
    int exit_status_;
    int errno_;
    std::string context_;
};

// "<context>: <strerror(err)>" — the shape of every system-call failure we report.
std::string describe_errno(const std::string& context, int err);

// Throws Error(describe_errno(context, err)) carrying err (by default the current errno).
[[noreturn]] void throw_errno(const std::string& context, int err = errno);

}  // namespace portwrap
