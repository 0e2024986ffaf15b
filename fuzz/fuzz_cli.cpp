// libFuzzer harness for the command-line parser, portwrap::cli::parse.
//
// Input: the argument words (argv without argv[0]), each ended by a NUL byte as in
// /proc/PID/cmdline; a last word without its NUL counts too. Real argv words hold
// no NUL, and neither do these.
//
// Besides "no crash, no sanitizer report", every result is checked against what
// cli.h promises (see check_options and check_usage_error).
#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_check.h"
#include "cli.h"

using namespace portwrap::cli;

namespace {

constexpr char kFuzzTarget[] = "fuzz_cli";

FUZZ_ORACLE std::vector<std::string> split_words(const uint8_t* data, size_t size)
{
    std::vector<std::string> words;
    size_t start = 0;
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == '\0') {
            words.emplace_back(reinterpret_cast<const char*>(data) + start, i - start);
            start = i + 1;
        }
    }
    if (start < size)
        words.emplace_back(reinterpret_cast<const char*>(data) + start, size - start);
    return words;
}

// parse_port: 0, or the value of 1..5 decimal digits (leading zeros allowed) in 1..65535.
FUZZ_ORACLE void check_parse_port(const std::string& text)
{
    const uint16_t port = parse_port(text);
    bool digits = !text.empty() && text.size() <= 5;
    unsigned long value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            digits = false;
            break;
        }
        value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    const unsigned long expected = digits && value >= 1 && value <= 65535 ? value : 0;
    FUZZ_CHECK(port == expected);
}

FUZZ_ORACLE bool same_options(const Options& a, const Options& b)
{
    return a.forwards == b.forwards && a.guest_port == b.guest_port && a.port_file == b.port_file &&
           a.host_addr == b.host_addr && a.ready_fd == b.ready_fd && a.dns == b.dns &&
           a.control_socket == b.control_socket &&
           a.port_driver == b.port_driver && a.max_connections == b.max_connections && a.allow_host_loopback == b.allow_host_loopback &&
           a.map_root == b.map_root && a.verbose == b.verbose && a.command == b.command &&
           a.to_host == b.to_host && a.jupyterhub == b.jupyterhub;
}

// The -p value that says exactly `spec`, in its longest spelling.
FUZZ_ORACLE std::string canonical_forward(const portwrap::forward::Spec& spec)
{
    const std::string guest = ":" + std::to_string(spec.guest_port);
    if (!spec.unix_path.empty())
        return "unix:" + spec.unix_path + guest;
    const std::string addr = spec.ipv6 ? "[" + spec.host_addr + "]" : spec.host_addr;
    return addr + ":" + std::to_string(spec.host_port) + guest + "/" + portwrap::forward::protocol_name(spec.protocol);
}

// The -T value that says exactly `spec`.
FUZZ_ORACLE std::string canonical_to_host(const portwrap::host_access::Spec& spec)
{
    const std::string ports = std::to_string(spec.guest_port) + ":" + std::to_string(spec.host_port);
    if (spec.guest_addr.empty())
        return ports;
    const bool ipv6 = spec.guest_addr.find(':') != std::string::npos;
    return (ipv6 ? "[" + spec.guest_addr + "]" : spec.guest_addr) + ":" + ports;
}

FUZZ_ORACLE void check_options(const std::vector<std::string>& args, const Options& options)
{
    // --jupyterhub takes the place of -p: its forwards come from the environment later.
    FUZZ_CHECK(!options.forwards.empty() || options.jupyterhub);
    FUZZ_CHECK(options.forwards.empty() || options.guest_port == options.forwards.front().guest_port);
    for (const auto& spec : options.to_host) {
        FUZZ_CHECK(spec.guest_port != 0 && spec.host_port != 0);
        FUZZ_CHECK(spec.guest_addr.empty() || portwrap::host_access::is_loopback(spec.guest_addr));
        FUZZ_CHECK(portwrap::host_access::is_loopback(spec.host_addr));
    }
    for (const auto& spec : options.forwards) {
        FUZZ_CHECK(spec.guest_port != 0);
        if (spec.unix_path.empty()) {
            bool ipv6 = false;
            FUZZ_CHECK(portwrap::forward::parse_address(spec.host_addr, &ipv6));
            FUZZ_CHECK(ipv6 == spec.ipv6);
        } else {
            FUZZ_CHECK(spec.protocol == portwrap::forward::Protocol::Tcp);
            FUZZ_CHECK(spec.unix_path.size() < 108);
        }
    }
    FUZZ_CHECK(!options.command.empty());
    // The command is the tail of the arguments, passed through untouched.
    FUZZ_CHECK(options.command.size() <= args.size());
    FUZZ_CHECK(std::equal(options.command.begin(), options.command.end(),
                          args.end() - static_cast<long>(options.command.size())));
    FUZZ_CHECK(options.port_driver == PortDriver::Auto || options.port_driver == PortDriver::Handoff ||
               options.port_driver == PortDriver::Relay || options.port_driver == PortDriver::Slirp);
    FUZZ_CHECK(options.max_connections <= portwrap::cli::kMaxMaxConnections);
    FUZZ_CHECK(options.port_driver != PortDriver::Slirp ||
               options.max_connections == portwrap::cli::kDefaultMaxConnections);

    // Round trip: the canonical command line of these options parses to the same options.
    std::vector<std::string> canonical;
    for (const auto& spec : options.forwards)
        canonical.push_back("--host-port=" + canonical_forward(spec));
    for (const auto& spec : options.to_host)
        canonical.push_back("--to-host=" + canonical_to_host(spec));
    if (options.jupyterhub)
        canonical.push_back("--jupyterhub");
    const char* driver = options.port_driver == PortDriver::Slirp     ? "slirp"
                         : options.port_driver == PortDriver::Relay   ? "relay"
                         : options.port_driver == PortDriver::Handoff ? "handoff"
                                                                      : "auto";
    canonical.push_back(std::string("--port-driver=") + driver);
    if (options.port_driver != PortDriver::Slirp)
        canonical.push_back("--max-connections=" + std::to_string(options.max_connections));
    if (!options.port_file.empty())
        canonical.push_back("--port-file=" + options.port_file);
    canonical.push_back("--host-addr=" + options.host_addr);
    if (options.ready_fd >= 0)
        canonical.push_back("--ready-fd=" + std::to_string(options.ready_fd));
    for (const std::string& server : options.dns)
        canonical.push_back("--dns=" + server);
    if (!options.control_socket.empty())
        canonical.push_back("--control-socket=" + options.control_socket);
    if (options.allow_host_loopback)
        canonical.push_back("--allow-host-loopback");
    if (options.map_root)
        canonical.push_back("--map-root");
    if (options.verbose)
        canonical.push_back("-v");
    canonical.push_back("--");
    canonical.insert(canonical.end(), options.command.begin(), options.command.end());
    ParseResult again = parse(canonical);
    const auto* same = std::get_if<Options>(&again);
    FUZZ_CHECK(same != nullptr);
    FUZZ_CHECK(same_options(*same, options));
}

FUZZ_ORACLE void check_usage_error(const UsageError& error)
{
    FUZZ_CHECK(!error.message.empty());
    // The message is printed with %s: a NUL would cut it short. (argv words hold none.)
    FUZZ_CHECK(error.message.find('\0') == std::string::npos);
    // An argument with a newline in it is quoted as given; log::error prints control
    // characters as '?', so the user still sees one line.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::vector<std::string> args = split_words(data, size);
    const ParseResult result = parse(args);

    if (const auto* options = std::get_if<Options>(&result))
        check_options(args, *options);
    else if (const auto* error = std::get_if<UsageError>(&result))
        check_usage_error(*error);
    else if (const auto* ctl = std::get_if<RunCtl>(&result))  // "ctl" first: the rest, untouched
        FUZZ_CHECK(!args.empty() && args[0] == "ctl" && ctl->args == std::vector<std::string>(args.begin() + 1, args.end()));
    else
        FUZZ_CHECK(std::holds_alternative<ShowHelp>(result) || std::holds_alternative<ShowVersion>(result) ||
                   std::holds_alternative<RunCheck>(result));

    // parse() is pure: the same words give the same result, even after a parse that
    // left getopt_long in the middle of a group of short options.
    (void)parse({"-vhp"});
    const ParseResult again = parse(args);
    FUZZ_CHECK(again.index() == result.index());
    if (const auto* error = std::get_if<UsageError>(&result))
        FUZZ_CHECK(std::get<UsageError>(again).message == error->message);

    for (const std::string& word : args)
        check_parse_port(word);
    return 0;
}
