#include "cli.h"

#include <arpa/inet.h>
#include <libslirp.h>

#include <optional>

#include "config.h"

namespace portwrap::cli {
namespace {

enum class Key { HostPort, GuestPort, HostAddr, PortDriver, AllowHostLoopback, MapRoot, PidNs, Verbose, Help, Version };

struct OptionSpec {
    char short_name;  // '\0' when there is none
    const char* long_name;
    bool takes_value;
    Key key;
};

constexpr OptionSpec kOptions[] = {
    {'p', "host-port", true, Key::HostPort},
    {'P', "guest-port", true, Key::GuestPort},
    {'\0', "host-addr", true, Key::HostAddr},
    {'\0', "port-driver", true, Key::PortDriver},
    {'\0', "allow-host-loopback", false, Key::AllowHostLoopback},
    {'\0', "map-root", false, Key::MapRoot},
    {'\0', "pid-ns", false, Key::PidNs},
    {'v', "verbose", false, Key::Verbose},
    {'h', "help", false, Key::Help},
    {'\0', "version", false, Key::Version},
};

const OptionSpec* find_short(char c)
{
    for (const auto& spec : kOptions)
        if (spec.short_name == c)
            return &spec;
    return nullptr;
}

const OptionSpec* find_long(const std::string& name)
{
    for (const auto& spec : kOptions)
        if (name == spec.long_name)
            return &spec;
    return nullptr;
}

std::string display_name(const OptionSpec& spec)
{
    std::string name = std::string("--") + spec.long_name;
    if (spec.short_name)
        name = std::string("-") + spec.short_name + "/" + name;
    return name;
}

}  // namespace

uint16_t parse_port(const std::string& text) noexcept
{
    if (text.empty() || text.size() > 5)
        return 0;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return 0;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 65535 ? static_cast<uint16_t>(value) : 0;
}

ParseResult parse(const std::vector<std::string>& args)
{
    Options options;
    std::optional<std::string> host_port, guest_port, port_driver;

    size_t i = 0;
    // Applies one option; value is set only for options that take one.
    auto apply = [&](const OptionSpec& spec, const std::string& value) -> std::optional<ParseResult> {
        switch (spec.key) {
        case Key::HostPort: host_port = value; break;
        case Key::GuestPort: guest_port = value; break;
        case Key::HostAddr: options.host_addr_text = value; break;
        case Key::PortDriver: port_driver = value; break;
        case Key::AllowHostLoopback: options.allow_host_loopback = true; break;
        case Key::MapRoot: options.map_root = true; break;
        case Key::PidNs: options.pid_ns = true; break;
        case Key::Verbose: options.verbose = true; break;
        case Key::Help: return ShowHelp{};
        case Key::Version: return ShowVersion{};
        }
        return std::nullopt;
    };

    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-')
            break;  // first non-option word: the command starts here

        const OptionSpec* spec = nullptr;
        std::optional<std::string> attached;
        if (arg[1] == '-') {
            std::string name = arg.substr(2);
            if (auto eq = name.find('='); eq != std::string::npos) {
                attached = name.substr(eq + 1);
                name.resize(eq);
            }
            spec = find_long(name);
            if (!spec)
                return UsageError{"unknown option '" + arg + "'"};
            if (!spec->takes_value && attached)
                return UsageError{"option '--" + name + "' takes no value"};
        } else {
            spec = find_short(arg[1]);
            if (!spec)
                return UsageError{"unknown option '" + arg.substr(0, 2) + "'"};
            if (arg.size() > 2) {
                if (!spec->takes_value)
                    return UsageError{"unknown option '" + arg + "'"};
                attached = arg.substr(2);
            }
        }

        std::string value;
        if (spec->takes_value) {
            if (attached) {
                value = *attached;
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                return UsageError{"option " + display_name(*spec) + " needs a value"};
            }
        }
        if (auto early = apply(*spec, value))
            return *early;
    }

    options.command.assign(args.begin() + static_cast<long>(i), args.end());

    if (!host_port)
        return UsageError{"missing -p/--host-port"};
    if (!guest_port)
        return UsageError{"missing -P/--guest-port"};
    options.host_port = parse_port(*host_port);
    if (options.host_port == 0)
        return UsageError{"invalid host port '" + *host_port + "': expected a number from 1 to 65535"};
    options.guest_port = parse_port(*guest_port);
    if (options.guest_port == 0)
        return UsageError{"invalid guest port '" + *guest_port + "': expected a number from 1 to 65535"};
    if (port_driver == "slirp")
        options.port_driver = PortDriver::Slirp;
    else if (port_driver && *port_driver != "relay")
        return UsageError{"invalid port driver '" + *port_driver + "': expected 'relay' or 'slirp'"};
    if (inet_pton(AF_INET, options.host_addr_text.c_str(), &options.host_addr) != 1)
        return UsageError{"invalid host address '" + options.host_addr_text +
                          "': expected a numeric IPv4 address such as 127.0.0.1"};
    if (options.command.empty())
        return UsageError{"missing COMMAND to run"};
    return options;
}

std::vector<OptionInfo> option_table()
{
    std::vector<OptionInfo> table;
    for (const auto& spec : kOptions)
        table.push_back({spec.short_name, spec.long_name, spec.takes_value});
    return table;
}

std::string help_text()
{
    return R"(Usage: portwrap [OPTIONS] -p HOST_PORT -P GUEST_PORT [--] COMMAND [ARG...]
Run COMMAND in a private user and network namespace and forward one TCP port
from the host into it. Every other port COMMAND opens stays private.
Each "{guest-port}" in COMMAND and its arguments is replaced by GUEST_PORT.

Mandatory arguments to long options are mandatory for short options too.

Forwarding:
  -p, --host-port=PORT      host TCP port to listen on (1-65535)
  -P, --guest-port=PORT     port inside the namespace it forwards to (1-65535)
      --host-addr=ADDR      host IPv4 address to listen on (default 127.0.0.1;
                            0.0.0.0 exposes the port to the whole network)
      --port-driver=DRIVER  how the port is forwarded: 'relay' (the default:
                            portwrap relays each connection to
                            127.0.0.1:GUEST_PORT inside) or 'slirp' (libslirp
                            forwards to 10.0.2.100:GUEST_PORT)
      --allow-host-loopback let COMMAND reach the host's 127.0.0.1 services
                            through 10.0.2.2 (blocked by default)

Identity:
      --map-root            run COMMAND as uid/gid 0 inside the namespace
                            (default: the same uid and gid as outside)

Processes:
      --pid-ns              run COMMAND in a new PID namespace, with its own
                            /proc, under a minimal init: every process it
                            leaves behind ends with it, even if portwrap is
                            killed (default: the host's PID namespace)

Other:
  -v, --verbose             print start-up diagnostics on stderr
  -h, --help                show this help and exit
      --version             show version information and exit

Options end at the first word that is not an option, or after "--", so
COMMAND's own options pass through untouched.

Examples:
  Jupyter Lab, reachable from the host at 127.0.0.1:9876 only:
    portwrap -p 9876 -P 8888 -- jupyter lab --port={guest-port} \
        --ip=0.0.0.0 --no-browser
  A web server on port 8000 inside, at 127.0.0.1:8080 on the host:
    portwrap -p 8080 -P 8000 -- python3 -m http.server -b 0.0.0.0 {guest-port}
  A server that must listen on port 80 inside runs as uid 0 there:
    portwrap --map-root -p 8080 -P 80 -- python3 -m http.server {guest-port}

Exit status:
  the exit status of COMMAND, or 128+N if COMMAND was killed by signal N;
  125 if portwrap itself failed; 126 if COMMAND could not be executed;
  127 if COMMAND was not found.

Full documentation: man portwrap
Report bugs through the portwrap project's issue tracker.
)";
}

std::string version_text()
{
    return std::string("portwrap ") + PORTWRAP_VERSION + " (libslirp " + slirp_version_string() + ")\n";
}

}  // namespace portwrap::cli
