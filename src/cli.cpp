#include "cli.h"

#include <getopt.h>
#include <libslirp.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <string_view>
#include <tuple>

#include "config.h"

namespace portwrap::cli {
namespace {

// Every option, in the order --help lists them. getopt_long's tables are built from
// this one. To add an option: a line here, its lines in kHelp just below, and a
// `case id("NAME"):` in parse(). The unit tests check that the help lists exactly
// this table, in this order, and that parse() has a case for each entry.
struct OptionSpec {
    char short_name;  // '\0' when there is none
    const char* long_name;
    bool takes_value;
};

constexpr OptionSpec kOptions[] = {
    {'p', "host-port", true},
    {'P', "guest-port", true},
    {'\0', "host-addr", true},
    {'T', "to-host", true},
    {'\0', "jupyterhub", false},
    {'\0', "port-file", true},
    {'\0', "print-url", true},
    {'\0', "ready-fd", true},
    {'\0', "control-socket", true},
    {'\0', "port-driver", true},
    {'\0', "max-connections", true},
    {'\0', "allow-host-loopback", false},
    {'\0', "dns", true},
    {'\0', "map-root", false},
    {'\0', "pid-ns", false},
    {'\0', "stop-grace", true},
    {'\0', "leftover-grace", true},
    {'\0', "no-forward-signals", false},
    {'v', "verbose", false},
    {'h', "help", false},
    {'\0', "version", false},
    {'\0', "check", false},
};

constexpr char kHelp[] = R"(Usage: portwrap [OPTIONS] -p HOST_PORT -P GUEST_PORT [--] COMMAND [ARG...]
  or:  portwrap [OPTIONS] -p FORWARD [-p FORWARD]... [--] COMMAND [ARG...]
  or:  portwrap [OPTIONS] --jupyterhub [--] jupyterhub-singleuser [ARG...]
  or:  portwrap --check
  or:  portwrap ctl SOCKET list | add FORWARD | remove FORWARD
Run COMMAND in a private user and network namespace and forward TCP (or UDP)
ports from the host into it. Every other port COMMAND opens stays private.
Each "{guest-port}" in COMMAND and its arguments is replaced by the guest port
of the first -p, each "{host-port}" by its host port (the one picked, for 0)
and each "{host}" by its host side (such as 127.0.0.1:40123, or unix:PATH);
COMMAND also finds them in PORTWRAP_HOST_PORT, PORTWRAP_HOST and, for every
forward, PORTWRAP_FORWARDS.

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
                            (or -p unix:PATH) that names none
      --host-addr=ADDR      host address for forwards that name none (default
                            127.0.0.1; 0.0.0.0 or :: expose them to the
                            whole network)
  -T, --to-host=[GUEST_ADDR:]GUEST_PORT[:HOST_PORT]
                            let COMMAND reach one TCP port of the host's
                            loopback (repeatable): GUEST_PORT at 127.0.0.1
                            and ::1 inside leads to the host's
                            127.0.0.1:HOST_PORT (default GUEST_PORT); with
                            GUEST_ADDR (a loopback address, [::1] for IPv6)
                            there only, and to that address on the host.
                            The rest of the host's loopback stays blocked;
                            COMMAND itself cannot listen on GUEST_PORT there
      --jupyterhub          be JupyterHub's single-user server wrapper:
                            forward the host port of JUPYTERHUB_SERVICE_URL
                            to the same port inside, and -T the hub API of
                            JUPYTERHUB_API_URL (and JUPYTERHUB_ACTIVITY_URL);
                            takes the place of -p
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
                            10.0.2.100:GUEST_PORT). UDP is always relayed by
                            portwrap to 127.0.0.1:GUEST_PORT inside.
      --max-connections=N   connections each relayed TCP forward keeps open
                            at once (default 256; 0: no limit); past it, new
                            ones are reset at once. Relayed connections only:
                            not for the slirp driver, and a handed-off
                            forward's server accepts its own.
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

Stopping (under Slurm, keep the two graces well below KillWait):
      --stop-grace=SECONDS  after a stop request (SIGTERM, SIGINT, SIGHUP,
                            SIGQUIT), how long COMMAND has before SIGKILL
                            (default 10)
      --leftover-grace=SECONDS  after COMMAND exits, how long what it left
                            behind has between SIGTERM and SIGKILL (default 2)
      --no-forward-signals  the signals portwrap gets were sent to every
                            process of the job, COMMAND included (Slurm's
                            scancel, systemd's control-group kill): do not
                            send them again; a stop request still starts
                            --stop-grace

Other:
  -v, --verbose             print start-up diagnostics on stderr
  -h, --help                show this help and exit
      --version             show version information and exit
      --check               check whether portwrap can run here for this user:
                            one line per requirement (ok, warning, FAIL), with
                            a fix for each; exit 0 only if a launch would work

Short options may be combined (-vp 9876) and a long option shortened to any
prefix that names only it (--host-p 9876, --verb); scripts should spell
options in full. -p, -T and --dns add up when repeated; for any other option
given twice, the last value counts. Options end at the first word that is
not an option, or after "--", so COMMAND's own options pass through
untouched; a COMMAND whose name starts with '-' needs "--" before it.
Among the options, the first of -h, --version and --check decides: portwrap
does only that, without reading the words after it. "ctl" is a request to a
running portwrap only as the first word; anywhere else it is a command name.

Examples:
  Jupyter Lab, reachable from the host at 127.0.0.1:9876 only:
    portwrap -p 9876 -P 8888 -- jupyter lab --port={guest-port} \
        --ip=0.0.0.0 --no-browser
  A web server on port 8000 inside, at 127.0.0.1:8080 on the host:
    portwrap -p 8080 -P 8000 -- python3 -m http.server -b 0.0.0.0 {guest-port}
  Jupyter on an owner-only Unix socket of this node (not in a home directory
  that several login nodes share), for the ssh -L line portwrap prints:
    portwrap -p unix:$XDG_RUNTIME_DIR/jupyter.sock:8888 -- jupyter lab \
        --port={guest-port} --no-browser
  A single-user server started by JupyterHub (in jupyterhub_config.py):
    c.Spawner.cmd = ['portwrap', '--jupyterhub', '--',
                     'jupyterhub-singleuser']
  A program inside that needs the host's PostgreSQL on 127.0.0.1:5432:
    portwrap -p 8080 -P 8000 -T 5432 -- ./webapp --port={guest-port}
  A server that must listen on port 80 inside runs as uid 0 there:
    portwrap --map-root -p 8080 -P 80 -- python3 -m http.server {guest-port}

Exit status:
  the exit status of COMMAND, or 128+N if COMMAND was killed by signal N;
  125 if portwrap itself failed; 126 if COMMAND could not be executed;
  127 if COMMAND was not found.

Full documentation: man portwrap
Report bugs through the portwrap project's issue tracker.
)";

// What getopt_long returns for the option at kOptions[index]: its short letter, or,
// for a long-only option, a number above every char so that the two never meet.
constexpr int kFirstLongOnly = 256;
constexpr int id_at(size_t index)
{
    return kOptions[index].short_name ? kOptions[index].short_name : kFirstLongOnly + static_cast<int>(index);
}

// The id of the option named LONG_NAME, for parse()'s case labels. A name that is not
// in kOptions throws, and a throw in a case label does not compile.
constexpr int id(std::string_view long_name)
{
    for (size_t i = 0; i < std::size(kOptions); ++i)
        if (long_name == kOptions[i].long_name)
            return id_at(i);
    throw "cli.cpp: no option of that name in kOptions";
}

const OptionSpec* find_by_id(int value)
{
    for (size_t i = 0; i < std::size(kOptions); ++i)
        if (id_at(i) == value)
            return &kOptions[i];
    return nullptr;
}

// getopt_long's two tables, built once from kOptions.
struct GetoptTables {
    std::string short_options;
    std::vector<option> long_options;
};

const GetoptTables& getopt_tables()
{
    static const GetoptTables tables = [] {
        GetoptTables built;
        // '+': stop at the first word that is not an option (COMMAND), as POSIX does;
        // ':': a missing value comes back as ':', not '?', to be worded here.
        built.short_options = "+:";
        for (size_t i = 0; i < std::size(kOptions); ++i) {
            const OptionSpec& spec = kOptions[i];
            if (spec.short_name) {
                built.short_options += spec.short_name;
                if (spec.takes_value)
                    built.short_options += ':';
            }
            built.long_options.push_back(
                {spec.long_name, spec.takes_value ? required_argument : no_argument, nullptr, id_at(i)});
        }
        built.long_options.push_back({nullptr, 0, nullptr, 0});
        return built;
    }();
    return tables;
}

constexpr size_t kMaxUnixPath = 108;  // sizeof(sockaddr_un::sun_path)

std::string display_name(const OptionSpec& spec)
{
    std::string name = std::string("--") + spec.long_name;
    if (spec.short_name)
        name = std::string("-") + spec.short_name + "/" + name;
    return name;
}

// The message for a word getopt_long returned '?' for. optopt is the option's id
// when a flag was given a value, the letter when a short option is unknown, and 0
// when a long option is unknown or an ambiguous abbreviation (getopt_long does not
// say which: the candidates are counted here). Cold, as an error path: -O3 would
// otherwise inline every append and add 6 KB to the static binary.
[[gnu::cold]] std::string bad_option(const std::string& word, int optopt_value)
{
    std::string message;
    if (const OptionSpec* spec = optopt_value ? find_by_id(optopt_value) : nullptr)
        return message.append("option '--").append(spec->long_name).append("' takes no value");
    if (optopt_value) {
        const char letter[] = {'-', static_cast<char>(optopt_value), '\0'};
        message.append("unknown option '").append(letter).append("'");
        if (word != letter)
            message.append(" in '").append(word).append("'");
        return message;
    }
    const std::string_view name =
        word.rfind("--", 0) == 0 ? std::string_view(word).substr(2, word.find('=') - 2) : std::string_view();
    std::vector<const char*> candidates;
    for (const auto& spec : kOptions)
        if (!name.empty() && std::string_view(spec.long_name).starts_with(name))
            candidates.push_back(spec.long_name);
    if (candidates.size() < 2)
        return message.append("unknown option '").append(word).append("'");
    message.append("ambiguous option '").append(word).append("': could be ");
    for (size_t i = 0; i < candidates.size(); ++i)
        message.append(i == 0 ? "--" : i + 1 == candidates.size() ? " or --" : ", --").append(candidates[i]);
    return message;
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

int parse_seconds_ms(const std::string& text) noexcept
{
    const size_t dot = text.find('.');
    const std::string whole = text.substr(0, dot);
    const std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 4 || fraction.size() > 3 || (dot != std::string::npos && fraction.empty()))
        return -1;
    int ms = 0;
    for (char c : whole + fraction + std::string(3 - fraction.size(), '0')) {
        if (c < '0' || c > '9')
            return -1;
        ms = ms * 10 + (c - '0');
    }
    return ms <= 3'600'000 ? ms : -1;
}

ParseResult parse(const std::vector<std::string>& args)
{
    if (!args.empty() && args[0] == "ctl")
        return RunCtl{std::vector<std::string>(args.begin() + 1, args.end())};
    Options options;
    std::vector<std::string> host_ports, to_host;
    std::optional<std::string> guest_port, port_driver, ready_fd, max_connections, stop_grace, leftover_grace;
    std::string host_addr = "127.0.0.1";

    // getopt_long wants a C argv, argv[0] included, and may write to it: a copy.
    std::vector<std::string> words{"portwrap"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    const int argc = static_cast<int>(words.size());
    const GetoptTables& tables = getopt_tables();
    opterr = 0;  // no messages of getopt's own: bad_option() and the ':' case word them
    optind = 0;  // 0, not 1: glibc then resets all of its state, even after a parse that stopped mid-word

    for (;;) {
        const int word = std::max(optind, 1);  // the word getopt_long is about to read
        const int c = getopt_long(argc, argv.data(), tables.short_options.c_str(), tables.long_options.data(), nullptr);
        if (c == -1)
            break;
        const std::string value = optarg ? optarg : "";
        switch (c) {
        case ':': {
            const OptionSpec* spec = find_by_id(optopt);
            return UsageError{"option " + (spec ? display_name(*spec) : words[static_cast<size_t>(word)]) +
                              " needs a value"};
        }
        case '?': return UsageError{bad_option(words[static_cast<size_t>(word)], optopt)};
        case id("host-port"): host_ports.push_back(value); break;
        case id("guest-port"): guest_port = value; break;
        case id("to-host"): to_host.push_back(value); break;
        case id("jupyterhub"): options.jupyterhub = true; break;
        case id("host-addr"): host_addr = value; break;
        case id("port-driver"): port_driver = value; break;
        case id("max-connections"): max_connections = value; break;
        case id("port-file"): options.port_file = value; break;
        case id("ready-fd"): ready_fd = value; break;
        case id("dns"): options.dns.push_back(value); break;
        case id("control-socket"): options.control_socket = value; break;
        case id("print-url"): options.print_url = value; break;
        case id("allow-host-loopback"): options.allow_host_loopback = true; break;
        case id("map-root"): options.map_root = true; break;
        case id("pid-ns"): options.pid_ns = true; break;
        case id("stop-grace"): stop_grace = value; break;
        case id("leftover-grace"): leftover_grace = value; break;
        case id("no-forward-signals"): options.stop.forward_signals = false; break;
        case id("verbose"): options.verbose = true; break;
        case id("help"): return ShowHelp{};
        case id("version"): return ShowVersion{};
        case id("check"): return RunCheck{};
        default: {  // an entry of kOptions without its case here
            const OptionSpec* spec = find_by_id(c);
            return UsageError{std::string("internal error: option --") + (spec ? spec->long_name : "?") +
                              " is not handled"};
        }
        }
    }

    // optind: the first word of COMMAND (after "--" if there was one), in argv's numbering.
    options.command.assign(args.begin() + (optind - 1), args.end());

    if (host_ports.empty() && !options.jupyterhub)
        return UsageError{"missing -p/--host-port (or --jupyterhub)"};
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
            return UsageError{"-P/--guest-port goes with a single -p HOST_PORT (or unix:PATH); "
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
    for (const std::string& text : to_host) {
        auto spec = host_access::parse(text);
        if (const auto* error = std::get_if<std::string>(&spec))
            return UsageError{*error};
        const auto& parsed = std::get<host_access::Spec>(spec);
        for (const auto& other : options.to_host)
            if (other.guest_port == parsed.guest_port &&
                (other.guest_addr.empty() || parsed.guest_addr.empty() || other.guest_addr == parsed.guest_addr))
                return UsageError{"the guest side of -T '" + text + "' is given twice"};
        options.to_host.push_back(parsed);
    }
    if (!options.forwards.empty())
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
    for (const auto& [name, text, ms] : {std::tuple{"--stop-grace", &stop_grace, &options.stop.command_grace_ms},
                                         std::tuple{"--leftover-grace", &leftover_grace, &options.stop.leftover_grace_ms}}) {
        if (!*text)
            continue;
        *ms = parse_seconds_ms(**text);
        if (*ms < 0)
            return UsageError{std::string("invalid ") + name + " '" + **text +
                              "': expected seconds from 0 to 3600, such as 10 or 0.5"};
    }
    if (port_driver == "slirp")
        options.port_driver = PortDriver::Slirp;
    else if (port_driver == "relay")
        options.port_driver = PortDriver::Relay;
    else if (port_driver == "handoff")
        options.port_driver = PortDriver::Handoff;
    else if (port_driver && *port_driver != "auto")
        return UsageError{"invalid port driver '" + *port_driver + "': expected 'auto', 'handoff', 'relay' or 'slirp'"};
    if (max_connections) {
        const auto& text = *max_connections;
        size_t value = text.empty() || text.size() > 7 ? SIZE_MAX : 0;
        for (char c : text)
            value = value == SIZE_MAX || c < '0' || c > '9' ? SIZE_MAX : value * 10 + static_cast<size_t>(c - '0');
        if (value > kMaxMaxConnections)
            return UsageError{"invalid --max-connections '" + text + "': expected a number from 0 (no limit) to " +
                              std::to_string(kMaxMaxConnections)};
        if (options.port_driver == PortDriver::Slirp)
            return UsageError{"--max-connections applies to the relay port driver only: with --port-driver=slirp, "
                              "libslirp accepts the connections itself"};
        options.max_connections = value;
    }
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
    return kHelp;
}

std::string version_text()
{
    return std::string("portwrap ") + PORTWRAP_VERSION + " (libslirp " + slirp_version_string() + ")\n";
}

}  // namespace portwrap::cli
