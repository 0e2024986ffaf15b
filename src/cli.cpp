#include "cli.h"

#include <libslirp.h>

#include <optional>

#include "config.h"

namespace portwrap::cli {
namespace {

enum class Key {
    HostPort,
    GuestPort,
    HostAddr,
    PortDriver,
    PortFile,
    ReadyFd,
    Dns,
    ControlSocket,
    PrintUrl,
    AllowHostLoopback,
    MapRoot,
    PidNs,
    Verbose,
    Help,
    Version,
    Check,
};

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
    {'\0', "port-file", true, Key::PortFile},
    {'\0', "print-url", true, Key::PrintUrl},
    {'\0', "ready-fd", true, Key::ReadyFd},
    {'\0', "control-socket", true, Key::ControlSocket},
    {'\0', "port-driver", true, Key::PortDriver},
    {'\0', "allow-host-loopback", false, Key::AllowHostLoopback},
    {'\0', "dns", true, Key::Dns},
    {'\0', "map-root", false, Key::MapRoot},
    {'\0', "pid-ns", false, Key::PidNs},
    {'v', "verbose", false, Key::Verbose},
    {'h', "help", false, Key::Help},
    {'\0', "version", false, Key::Version},
    {'\0', "check", false, Key::Check},
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

constexpr size_t kMaxUnixPath = 108;  // sizeof(sockaddr_un::sun_path)

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
    if (!args.empty() && args[0] == "ctl")
        return RunCtl{std::vector<std::string>(args.begin() + 1, args.end())};
    Options options;
    std::vector<std::string> host_ports;
    std::optional<std::string> guest_port, port_driver, ready_fd;
    std::string host_addr = "127.0.0.1";

    size_t i = 0;
    // Applies one option; value is set only for options that take one.
    auto apply = [&](const OptionSpec& spec, const std::string& value) -> std::optional<ParseResult> {
        switch (spec.key) {
        case Key::HostPort: host_ports.push_back(value); break;
        case Key::GuestPort: guest_port = value; break;
        case Key::HostAddr: host_addr = value; break;
        case Key::PortDriver: port_driver = value; break;
        case Key::PortFile: options.port_file = value; break;
        case Key::ReadyFd: ready_fd = value; break;
        case Key::Dns: options.dns.push_back(value); break;
        case Key::ControlSocket: options.control_socket = value; break;
        case Key::PrintUrl: options.print_url = value; break;
        case Key::AllowHostLoopback: options.allow_host_loopback = true; break;
        case Key::MapRoot: options.map_root = true; break;
        case Key::PidNs: options.pid_ns = true; break;
        case Key::Verbose: options.verbose = true; break;
        case Key::Help: return ShowHelp{};
        case Key::Version: return ShowVersion{};
        case Key::Check: return RunCheck{};
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

    if (host_ports.empty())
        return UsageError{"missing -p/--host-port"};
    bool unused_ipv6 = false;
    if (!forward::parse_address(host_addr, &unused_ipv6))
        return UsageError{"invalid host address '" + host_addr +
                          "': expected a numeric IPv4 or IPv6 address such as 127.0.0.1"};
    for (const std::string& text : host_ports) {
        auto spec = forward::parse(text, host_addr);
        if (const auto* error = std::get_if<std::string>(&spec))
            return UsageError{*error};
        options.forwards.push_back(std::get<forward::Spec>(spec));
    }
    if (guest_port) {
        const uint16_t port = parse_port(*guest_port);
        if (port == 0)
            return UsageError{"invalid guest port '" + *guest_port + "': expected a number from 1 to 65535"};
        if (options.forwards.size() != 1 || options.forwards[0].guest_port != 0)
            return UsageError{"-P/--guest-port goes with a single -p HOST_PORT; "
                              "for several forwards write -p HOST_PORT:GUEST_PORT"};
        options.forwards[0].guest_port = port;
    }
    for (size_t i = 0; i < options.forwards.size(); ++i) {
        const forward::Spec& spec = options.forwards[i];
        if (spec.guest_port == 0)
            return UsageError{options.forwards.size() == 1 && spec.unix_path.empty() && host_ports[0].find(':') == std::string::npos
                                  ? std::string("missing -P/--guest-port")
                                  : "missing the guest port in -p '" + host_ports[i] + "' (write " +
                                        (spec.unix_path.empty() ? "HOST_PORT:GUEST_PORT" : "unix:PATH:GUEST_PORT") + ")"};
        for (size_t j = 0; j < i; ++j) {
            const forward::Spec& other = options.forwards[j];
            if (spec.protocol == other.protocol && forward::host_side(spec) == forward::host_side(other) &&
                (spec.host_port != 0 || !spec.unix_path.empty()))
                return UsageError{"the host side " + forward::host_side(spec) + "/" +
                                  forward::protocol_name(spec.protocol) + " is given twice"};
        }
    }
    options.guest_port = options.forwards.front().guest_port;
    options.host_addr = host_addr;
    if (options.control_socket.size() >= kMaxUnixPath)
        return UsageError{"invalid --control-socket '" + options.control_socket + "': longer than " +
                          std::to_string(kMaxUnixPath - 1) + " bytes"};
    for (const std::string& server : options.dns) {
        bool unused = false;
        if (!forward::parse_address(server, &unused))
            return UsageError{"invalid --dns '" + server + "': expected a numeric IPv4 or IPv6 address"};
    }
    if (ready_fd) {
        const auto& text = *ready_fd;
        long value = text.empty() || text.size() > 9 ? -1 : 0;
        for (char c : text)
            value = value < 0 || c < '0' || c > '9' ? -1 : value * 10 + (c - '0');
        if (value < 0)
            return UsageError{"invalid --ready-fd '" + text + "': expected a file descriptor number"};
        options.ready_fd = static_cast<int>(value);
    }
    if (port_driver == "slirp")
        options.port_driver = PortDriver::Slirp;
    else if (port_driver == "relay")
        options.port_driver = PortDriver::Relay;
    else if (port_driver == "handoff")
        options.port_driver = PortDriver::Handoff;
    else if (port_driver && *port_driver != "auto")
        return UsageError{"invalid port driver '" + *port_driver + "': expected 'auto', 'handoff', 'relay' or 'slirp'"};
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
  or:  portwrap [OPTIONS] -p FORWARD [-p FORWARD]... [--] COMMAND [ARG...]
  or:  portwrap ctl SOCKET list | add FORWARD | remove FORWARD
Run COMMAND in a private user and network namespace and forward TCP (or UDP)
ports from the host into it. Every other port COMMAND opens stays private.
Each "{guest-port}" in COMMAND and its arguments is replaced by the guest port
of the first -p.

Mandatory arguments to long options are mandatory for short options too.

Forwarding:
  -p, --host-port=FORWARD   a host port to forward; repeat for several.
                            FORWARD is one of
                              HOST_PORT (with -P GUEST_PORT)
                              [ADDR:]HOST_PORT:GUEST_PORT[/udp]
                                (an IPv6 ADDR goes in brackets: [::1])
                              unix:PATH[:GUEST_PORT]
                                (an owner-only Unix socket, mode 0600)
                            HOST_PORT 0 picks a free port, shown on stderr
  -P, --guest-port=PORT     port inside the namespace for a single -p HOST_PORT
      --host-addr=ADDR      host address for forwards that name none (default
                            127.0.0.1; 0.0.0.0 or :: expose them to the
                            whole network)
      --port-file=FILE      once listening, write each forward's host side to
                            FILE, one per line (such as 127.0.0.1:40123);
                            removed when portwrap exits
      --print-url=TEMPLATE  once listening, print TEMPLATE on stderr, with
                            {host} and {port} taken from the first forward
                            (such as '{host}/lab' -> 127.0.0.1:40123/lab)
      --ready-fd=FD         once every TCP forward reaches a listening server
                            inside, write the host sides to file descriptor
                            FD, one per line, and close it
      --control-socket=PATH listen on an owner-only Unix socket at PATH for
                            'portwrap ctl PATH list|add|remove' (removed when
                            portwrap exits)
      --port-driver=DRIVER  how TCP is forwarded: 'auto' (the default:
                            handoff where the kernel supports it, else relay),
                            'handoff' (the server's bind() inside gets the host
                            socket itself: no relay), 'relay' (portwrap relays
                            each connection to 127.0.0.1:GUEST_PORT inside) or
                            'slirp' (libslirp forwards to
                            10.0.2.100:GUEST_PORT). UDP is always relayed.
      --allow-host-loopback let COMMAND reach the host's 127.0.0.1 services
                            through 10.0.2.2 (blocked by default)
      --dns=ADDR            the nameserver COMMAND uses (repeatable); default:
                            the host's, or libslirp's 10.0.2.3 when the host's
                            are all on its loopback

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
      --check               check whether portwrap can run here for this user:
                            one line per requirement (ok, warning, FAIL), with
                            a fix for each; exit 0 only if a launch would work

Options end at the first word that is not an option, or after "--", so
COMMAND's own options pass through untouched.

Examples:
  Jupyter Lab, reachable from the host at 127.0.0.1:9876 only:
    portwrap -p 9876 -P 8888 -- jupyter lab --port={guest-port} \
        --ip=0.0.0.0 --no-browser
  A web server on port 8000 inside, at 127.0.0.1:8080 on the host:
    portwrap -p 8080 -P 8000 -- python3 -m http.server -b 0.0.0.0 {guest-port}
  Jupyter on an owner-only Unix socket, for ssh -L 9876:$HOME/jupyter.sock:
    portwrap -p unix:$HOME/jupyter.sock:8888 -- jupyter lab \
        --port={guest-port} --no-browser
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
