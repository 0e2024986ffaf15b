// Command-line parsing: argv -> Options. Pure: no I/O, no exit().
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace portwrap::cli {

struct Options {
    uint16_t host_port = 0;
    uint16_t guest_port = 0;
    std::string host_addr_text = "127.0.0.1";
    in_addr host_addr{};  // host_addr_text, parsed
    bool allow_host_loopback = false;
    bool map_root = false;
    bool verbose = false;
    std::vector<std::string> command;  // as given; {guest-port} not yet expanded
};

struct ShowHelp {};
struct ShowVersion {};
struct UsageError {
    std::string message;  // one line, without the "portwrap: " prefix
};

using ParseResult = std::variant<Options, ShowHelp, ShowVersion, UsageError>;

// Options end at the first word that is not an option (or after "--"); that word
// and everything after it is the command, passed through untouched.
ParseResult parse(const std::vector<std::string>& args);

// Parses a TCP port, 1..65535. Returns 0 for anything else.
uint16_t parse_port(const std::string& text) noexcept;

std::string help_text();
std::string version_text();

}  // namespace portwrap::cli
