// Command-line parsing: argv -> Options. Pure: no I/O, no exit().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "forward_spec.h"
#include "stop_policy.h"
#include "host_access.h"

namespace portwrap::cli {

// How the published port reaches the namespace (docs/design.md, "Port drivers").
enum class PortDriver {
    Relay,  // portwrap accepts and splices to 127.0.0.1:GUEST_PORT inside (default)
    Slirp,  // libslirp's hostfwd to 10.0.2.100:GUEST_PORT
};

// --max-connections when it is not given (docs/design.md, "Port drivers").
constexpr size_t kDefaultMaxConnections = 256;
constexpr size_t kMaxMaxConnections = 1'000'000;

struct Options {
    // In -p order, each with its guest port (from -p HOST:GUEST or from -P).
    std::vector<forward::Spec> forwards;
    uint16_t guest_port = 0;  // the first forward's: what {guest-port} becomes
    std::vector<host_access::Spec> to_host;  // -T/--to-host, in order
    bool jupyterhub = false;  // --jupyterhub: more forwards from JupyterHub's environment (jupyterhub.h)
    std::string host_addr = "127.0.0.1";  // --host-addr: for forwards that name no address
    std::string port_file;    // --port-file: where to write the host sides, or empty
    int ready_fd = -1;        // --ready-fd: where to report readiness, or -1
    std::vector<std::string> dns;  // --dns, in order: the command's nameservers
    std::string control_socket;    // --control-socket: where `portwrap ctl` connects, or empty
    std::string print_url;         // --print-url: a URL template to print once listening, or empty
    PortDriver port_driver = PortDriver::Relay;
    // --max-connections: open connections per relayed TCP forward (0: no limit)
    size_t max_connections = kDefaultMaxConnections;
    bool allow_host_loopback = false;
    bool map_root = false;
    bool pid_ns = false;  // --pid-ns: the command runs in a new PID namespace, under a minimal init
    StopPolicy stop;      // --stop-grace, --leftover-grace, --no-forward-signals
    bool verbose = false;
    std::vector<std::string> command;  // as given; no placeholder expanded yet
};

struct ShowHelp {};
struct ShowVersion {};
struct RunCtl {  // "portwrap ctl ...": talk to a running portwrap (control_client.h)
    std::vector<std::string> args;  // the words after "ctl"
};
struct RunCheck {};  // --check: check this machine and user, then exit (self_check.h)
struct UsageError {
    std::string message;  // one line, without the "portwrap: " prefix
};

using ParseResult = std::variant<Options, ShowHelp, ShowVersion, UsageError, RunCheck, RunCtl>;

// The words are read by getopt_long, as GNU tools read them: grouped short options
// (-vp 9876), long options shortened to a prefix that names only them (--host-p).
// Options end at the first word that is not an option (or after "--"); that word
// and everything after it is the command, passed through untouched. The words are
// argv's (without argv[0]), so none holds a NUL. Calls may follow one another freely,
// but not run at the same time on two threads: getopt_long's state is global.
ParseResult parse(const std::vector<std::string>& args);

// Parses a TCP port, 1..65535. Returns 0 for anything else.
uint16_t parse_port(const std::string& text) noexcept;

// Parses a number of seconds, 0 to 3600 with up to 3 decimals ("10", "0.5"), into
// milliseconds. Returns -1 for anything else.
int parse_seconds_ms(const std::string& text) noexcept;

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
