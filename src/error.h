// Error: a failure that reaches the user as one line "portwrap: <message>" and an exit status.
#pragma once

#include <stdexcept>
#include <string>

namespace portwrap {

// Exit statuses of portwrap's own making (the rest come from the command).
inline constexpr int kExitSetupFailure = 125;  // portwrap itself failed or was misused
inline constexpr int kExitCannotExecute = 126;  // the command exists but could not be run
inline constexpr int kExitNotFound = 127;       // the command was not found

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, int exit_status = kExitSetupFailure)
        : std::runtime_error(message), exit_status_(exit_status) {}
    int exit_status() const noexcept { return exit_status_; }

private:
    int exit_status_;
};

// "<context>: <strerror(err)>" — the shape of every system-call failure we report.
std::string describe_errno(const std::string& context, int err);

// Throws Error(describe_errno(context, errno)).
[[noreturn]] void throw_errno(const std::string& context);

}  // namespace portwrap
