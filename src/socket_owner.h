// The owner file beside each Unix socket portwrap makes: PATH.host holds the host
// name (uname's nodename) and pid of the portwrap that serves PATH.
//
// On a home directory shared between login nodes, a live socket of the user's on
// another node refuses connections here exactly like a stale one. The owner file
// tells them apart: a socket whose owner file names another host is never replaced.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace portwrap::socket_owner {

struct Owner {
    std::string host;
    pid_t pid = 0;
    bool operator==(const Owner&) const = default;
};

// "PATH.host".
std::string path_for(const std::string& socket_path);

// Pure: the file's text, "HOST PID\n", and back. parse() accepts exactly that (the
// newline optional); anything else is nullopt.
std::string format(const Owner& owner);
std::optional<Owner> parse(const std::string& text);

// This machine's host name (uname nodename). Throws Error.
std::string this_host();

// The owner file beside `socket_path`: nullopt if there is none. Throws Error
// "<context>: …" if it cannot be read or says something else than format() writes.
std::optional<Owner> read(const std::string& socket_path, const std::string& context);

// Writes this host and process as the owner of `socket_path`, whole or not at all
// (a temporary file renamed over PATH.host). Throws Error.
void write(const std::string& socket_path);

}  // namespace portwrap::socket_owner
