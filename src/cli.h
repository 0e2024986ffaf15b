// Command-line parsing: argv -> Options. Pure: no I/O, no exit().
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace portwrap::cli {

// How the published port reaches the namespace (docs/design.md, "Port drivers").
enum class PortDriver {
    Relay,  // portwrap accepts and splices to 127.0.0.1:GUEST_PORT inside (default)
    Slirp,  // libslirp's hostfwd to 10.0.2.100:GUEST_PORT
};

struct Options {
    uint16_t host_port = 0;
    uint16_t guest_port = 0;
    std::string host_addr_text = "127.0.0.1";
    in_addr host_addr{};  // host_addr_text, parsed
    PortDriver port_driver = PortDriver::Relay;
    bool allow_host_loopback = false;
    bool map_root = false;
    bool pid_ns = false;  // --pid-ns: the command runs in a new PID namespace, under a minimal init
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

// One option portwrap accepts, as the parser knows it (for the help, the man page
// and the shell completions to be checked against).
struct OptionInfo {
    char short_name;        // '\0' when there is none
    std::string long_name;  // without the leading "--"
    bool takes_value;
};

// Every option parse() accepts, in the order --help lists them.
std::vector<OptionInfo> option_table();

// The --help text (GNU style: usage, grouped options, examples, exit status,
// where to report bugs). Ends with a newline.
std::string help_text();
// "portwrap VERSION (libslirp VERSION)\n".
std::string version_text();

}  // namespace portwrap::cli
