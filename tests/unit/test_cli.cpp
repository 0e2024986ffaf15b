#include <algorithm>
#include <string>
#include <vector>

#include "catch.h"
#include "cli.h"

using namespace portwrap::cli;
using Args = std::vector<std::string>;

namespace {

Options parse_ok(const Args& args)
{
    auto result = parse(args);
    auto* options = std::get_if<Options>(&result);
    if (!options) {
        auto* error = std::get_if<UsageError>(&result);
        FAIL("expected options, got " << (error ? error->message : "help/version"));
    }
    return *options;
}

std::string usage_error(const Args& args)
{
    auto result = parse(args);
    auto* error = std::get_if<UsageError>(&result);
    REQUIRE(error != nullptr);
    return error->message;
}

}  // namespace

TEST_CASE("short and long port options in every spelling", "[cli]")
{
    for (const Args& args : {Args{"-p", "9876", "-P", "8888", "cmd"}, Args{"-p9876", "-P8888", "cmd"},
                             Args{"--host-port", "9876", "--guest-port", "8888", "cmd"},
                             Args{"--host-port=9876", "--guest-port=8888", "cmd"}}) {
        Options options = parse_ok(args);
        REQUIRE(options.forwards.size() == 1);
        CHECK(options.forwards[0].host_port == 9876);
        CHECK(options.forwards[0].guest_port == 8888);
        CHECK(options.forwards[0].host_addr == "127.0.0.1");
        CHECK(options.forwards[0].protocol == portwrap::forward::Protocol::Tcp);
        CHECK(options.guest_port == 8888);
        CHECK(options.command == Args{"cmd"});
        CHECK(options.port_file.empty());
        CHECK_FALSE(options.allow_host_loopback);
        CHECK_FALSE(options.map_root);
        CHECK_FALSE(options.verbose);
    }
}

TEST_CASE("options end at the first non-option word", "[cli]")
{
    Options options = parse_ok({"-v", "-p", "1", "-P", "2", "jupyter", "lab", "--port={guest-port}", "-v", "--", "-p"});
    CHECK(options.verbose);
    CHECK(options.command == Args{"jupyter", "lab", "--port={guest-port}", "-v", "--", "-p"});
}

TEST_CASE("-- ends the options even before a dash word", "[cli]")
{
    Options options = parse_ok({"-p", "1", "-P", "2", "--", "-weird-command", "x"});
    CHECK(options.command == Args{"-weird-command", "x"});
}

TEST_CASE("flags and the host address", "[cli]")
{
    Options options = parse_ok(
        {"--allow-host-loopback", "--map-root", "--verbose", "--host-addr", "0.0.0.0", "-p", "1", "-P", "2", "c"});
    CHECK(options.allow_host_loopback);
    CHECK(options.map_root);
    CHECK(options.verbose);
    CHECK(options.forwards.at(0).host_addr == "0.0.0.0");
    CHECK_FALSE(options.forwards.at(0).ipv6);
    Options v6 = parse_ok({"--host-addr", "::1", "-p", "1", "-P", "2", "c"});
    CHECK(v6.forwards.at(0).host_addr == "::1");
    CHECK(v6.forwards.at(0).ipv6);
}

TEST_CASE("ports outside their range are usage errors naming the value", "[cli]")
{
    CHECK(usage_error({"-p", "65536", "-P", "2", "c"}) ==
          "invalid host port '65536' in '65536': expected a number from 0 (any free port) to 65535");
    CHECK(usage_error({"-p", "1", "-P", "0", "c"}) == "invalid guest port '0': expected a number from 1 to 65535");
    CHECK(usage_error({"-p", "1", "-P", "abc", "c"}) == "invalid guest port 'abc': expected a number from 1 to 65535");
    CHECK(usage_error({"-p", "-5", "-P", "2", "c"}).find("'-5'") != std::string::npos);
    CHECK(usage_error({"-p", "", "-P", "2", "c"}).find("''") != std::string::npos);
    CHECK(usage_error({"-p", " 80", "-P", "2", "c"}).find("' 80'") != std::string::npos);
}

TEST_CASE("missing pieces are named", "[cli]")
{
    CHECK(usage_error({"-P", "2", "c"}) == "missing -p/--host-port (or --jupyterhub)");
    CHECK(usage_error({"-p", "1", "c"}) == "missing -P/--guest-port");
    CHECK(usage_error({"-p", "1", "-P", "2"}) == "missing COMMAND to run");
    CHECK(usage_error({"-p"}) == "option -p/--host-port needs a value");
    CHECK(usage_error({"--host-addr"}) == "option --host-addr needs a value");
}

TEST_CASE("unknown options and bad addresses", "[cli]")
{
    CHECK(usage_error({"--nope", "-p", "1", "-P", "2", "c"}) == "unknown option '--nope'");
    CHECK(usage_error({"-x", "c"}) == "unknown option '-x'");
    CHECK(usage_error({"--map-root=yes", "c"}) == "option '--map-root' takes no value");
    CHECK(usage_error({"--host-addr", "localhost", "-p", "1", "-P", "2", "c"}).find("'localhost'") != std::string::npos);
    CHECK(usage_error({"--host-addr", "::1x", "-p", "1", "-P", "2", "c"}).find("'::1x'") != std::string::npos);
}

TEST_CASE("help and version win wherever they appear among the options", "[cli]")
{
    CHECK(std::holds_alternative<ShowHelp>(parse({"-h"})));
    CHECK(std::holds_alternative<ShowHelp>(parse({"-p", "1", "--help"})));
    CHECK(std::holds_alternative<ShowVersion>(parse({"--version"})));
    // ...but not after the command starts: then they belong to the command.
    CHECK(std::holds_alternative<Options>(parse({"-p", "1", "-P", "2", "c", "--help"})));
}

TEST_CASE("--check needs no ports and ends option parsing like --help", "[cli]")
{
    CHECK(std::holds_alternative<RunCheck>(parse({"--check"})));
    CHECK(std::holds_alternative<RunCheck>(parse({"-v", "--check", "-p", "x"})));
    CHECK(std::holds_alternative<ShowHelp>(parse({"--help", "--check"})));
    CHECK(std::holds_alternative<UsageError>(parse({"--check=yes"})));
    CHECK(std::holds_alternative<Options>(parse({"-p", "1", "-P", "2", "c", "--check"})));
}

TEST_CASE("parse_port accepts exactly 1..65535", "[cli]")
{
    CHECK(parse_port("1") == 1);
    CHECK(parse_port("65535") == 65535);
    CHECK(parse_port("08080") == 8080);
    CHECK(parse_port("0") == 0);
    CHECK(parse_port("65536") == 0);
    CHECK(parse_port("999999") == 0);
    CHECK(parse_port("12a") == 0);
    CHECK(parse_port("+1") == 0);
}

TEST_CASE("help lists every option", "[cli]")
{
    const std::string help = help_text();
    for (const char* option : {"--host-port", "--guest-port", "--host-addr", "--allow-host-loopback", "--map-root",
                               "--verbose", "--help", "--version", "{guest-port}"})
        CHECK(help.find(option) != std::string::npos);
}

TEST_CASE("--port-driver chooses relay (the default) or slirp", "[cli]")
{
    CHECK(parse_ok({"-p", "1", "-P", "2", "c"}).port_driver == PortDriver::Relay);
    CHECK(parse_ok({"--port-driver=relay", "-p", "1", "-P", "2", "c"}).port_driver == PortDriver::Relay);
    CHECK(parse_ok({"--port-driver", "slirp", "-p", "1", "-P", "2", "c"}).port_driver == PortDriver::Slirp);
    CHECK(usage_error({"--port-driver=fast", "-p", "1", "-P", "2", "c"}) ==
          "invalid port driver 'fast': expected 'relay' or 'slirp'");
}

TEST_CASE("--max-connections caps the relay's open connections per forward", "[cli]")
{
    CHECK(parse_ok({"-p", "1", "-P", "2", "c"}).max_connections == 256);
    CHECK(parse_ok({"--max-connections=10", "-p", "1", "-P", "2", "c"}).max_connections == 10);
    CHECK(parse_ok({"--max-connections", "0", "-p", "1", "-P", "2", "c"}).max_connections == 0);
    CHECK(parse_ok({"--max-connections=1000000", "-p", "1", "-P", "2", "c"}).max_connections == 1'000'000);
    for (const char* bad : {"", "-1", "1000001", "12x", "99999999999999999999"})
        CHECK(usage_error({std::string("--max-connections=") + bad, "-p", "1", "-P", "2", "c"}) ==
              "invalid --max-connections '" + std::string(bad) + "': expected a number from 0 (no limit) to 1000000");
    CHECK(usage_error({"--port-driver=slirp", "--max-connections=5", "-p", "1", "-P", "2", "c"}) ==
          "--max-connections applies to the relay port driver only: with --port-driver=slirp, libslirp accepts "
          "the connections itself");
    CHECK(help_text().find("--max-connections=N") != std::string::npos);
}

TEST_CASE("an option other than -p given twice: the last value counts", "[cli]")
{
    Options options = parse_ok({"-p", "7", "-P", "2", "-P3", "--host-addr=127.0.0.2", "--host-addr", "127.0.0.3",
                                "--port-file=a", "--port-file", "b", "c"});
    CHECK(options.forwards.at(0).host_port == 7);
    CHECK(options.guest_port == 3);
    CHECK(options.forwards.at(0).host_addr == "127.0.0.3");
    CHECK(options.port_file == "b");
}

TEST_CASE("short options combine, as in getopt: a value ends the group", "[cli]")
{
    for (const Args& args : {Args{"-vp", "9876", "-P", "8888", "cmd"}, Args{"-vp9876", "-P8888", "cmd"},
                             Args{"-vp9876", "-vP", "8888", "cmd"}}) {
        Options options = parse_ok(args);
        CHECK(options.verbose);
        REQUIRE(options.forwards.size() == 1);
        CHECK(options.forwards[0].host_port == 9876);
        CHECK(options.guest_port == 8888);
        CHECK(options.command == Args{"cmd"});
    }
    // After a letter that takes a value, the rest of the word is that value.
    CHECK(usage_error({"-pv", "-P", "2", "c"}).find("'v'") != std::string::npos);
    CHECK(std::holds_alternative<ShowHelp>(parse({"-vh"})));
    CHECK(std::holds_alternative<ShowHelp>(parse({"-hx"})));  // -h is done before x is read
    CHECK(usage_error({"-vx", "c"}) == "unknown option '-x' in '-vx'");
    CHECK(usage_error({"-vp"}) == "option -p/--host-port needs a value");
}

TEST_CASE("a long option may be shortened to a prefix that names only it", "[cli]")
{
    // (Prefixes long enough to stay unique when further options come.)
    Options options = parse_ok({"--host-p=9876", "--guest-p", "8888", "--verb", "--allow-h", "--map-r", "--dns",
                                "10.0.2.3", "--dns=fd00::3", "--port-d", "slirp", "cmd"});
    CHECK(options.forwards.at(0).host_port == 9876);
    CHECK(options.guest_port == 8888);
    CHECK(options.verbose);
    CHECK(options.allow_host_loopback);
    CHECK(options.map_root);
    CHECK(options.dns == Args{"10.0.2.3", "fd00::3"});
    CHECK(options.port_driver == PortDriver::Slirp);
    CHECK(options.command == Args{"cmd"});
    CHECK(std::holds_alternative<RunCheck>(parse({"--che"})));
    CHECK(std::holds_alternative<ShowVersion>(parse({"--vers"})));
    CHECK(std::holds_alternative<ShowHelp>(parse({"--he"})));
    // Shortened flags still take no value, and shortened options still need theirs.
    CHECK(usage_error({"--verb=1", "c"}) == "option '--verbose' takes no value");
    CHECK(usage_error({"--host-p"}) == "option -p/--host-port needs a value");
}

TEST_CASE("an ambiguous abbreviation names the options it could be", "[cli]")
{
    CHECK(usage_error({"--ver", "-p", "1:2", "c"}) == "ambiguous option '--ver': could be --verbose or --version");
    // (More options may come: the lists are checked for what they hold today.)
    const std::string host = usage_error({"--host=9876", "c"});
    CHECK(host.rfind("ambiguous option '--host=9876': could be --host-port", 0) == 0);
    CHECK(host.find(" or --") != std::string::npos);
    CHECK(host.find("--host-addr") != std::string::npos);
    const std::string p = usage_error({"--p", "c"});
    CHECK(p.rfind("ambiguous option '--p': could be --port-file, --print-url, --port-driver", 0) == 0);
    CHECK(p.find("--pid-ns") != std::string::npos);
    // A prefix of no option, or of none at all, is unknown.
    CHECK(usage_error({"--hostname", "c"}) == "unknown option '--hostname'");
    CHECK(usage_error({"--=1", "c"}) == "unknown option '--=1'");
}

TEST_CASE("--dns adds up; -p adds up; the rest: the last one counts", "[cli]")
{
    Options options = parse_ok({"--dns=10.0.2.3", "-p", "1:2", "--dns", "::1", "-p3:4", "--dns=10.0.0.1",
                                "--port-driver=slirp", "--port-driver=relay", "c"});
    CHECK(options.dns == Args{"10.0.2.3", "::1", "10.0.0.1"});
    REQUIRE(options.forwards.size() == 2);
    CHECK(options.forwards[1].host_port == 3);
    CHECK(options.port_driver == PortDriver::Relay);
}

TEST_CASE("COMMAND's own options are left alone", "[cli]")
{
    Options options = parse_ok({"-p", "1", "-P", "2", "ls", "-l", "--color", "-p", "--", "--help"});
    CHECK(options.command == Args{"ls", "-l", "--color", "-p", "--", "--help"});
    CHECK_FALSE(options.verbose);
    // "--" ends the options once; a second "--" is COMMAND's.
    CHECK(parse_ok({"-p", "1:2", "--", "--", "x"}).command == Args{"--", "x"});
    CHECK(parse_ok({"-p", "1:2", "--", "-v"}).command == Args{"-v"});
    // A lone "-" is a word, not an option: it starts COMMAND.
    CHECK(parse_ok({"-p", "1:2", "-", "x"}).command == Args{"-", "x"});
    // A value may look like an option or be "--": it is still the value.
    CHECK(parse_ok({"--print-url", "--", "-p", "1:2", "c"}).print_url == "--");
    CHECK(parse_ok({"--print-url", "-v", "-p", "1:2", "c"}).print_url == "-v");
    CHECK(usage_error({"--", "-p", "1:2", "c"}) == "missing -p/--host-port (or --jupyterhub)");
}

TEST_CASE("parse can run again and again: no state is left from the last call", "[cli]")
{
    // A parse that stops inside a group of short options, then one that starts afresh.
    for (int round = 0; round < 3; ++round) {
        CHECK(std::holds_alternative<ShowHelp>(parse({"-vhp"})));
        CHECK(usage_error({"-vx"}) == "unknown option '-x' in '-vx'");
        CHECK(parse_ok({"-vp", "9", "-P", "8", "c"}).forwards.at(0).host_port == 9);
        CHECK(parse_ok({"-p", "1:2", "c"}).verbose == false);
    }
}

TEST_CASE("an attached empty value is a value, not a missing one", "[cli]")
{
    CHECK(usage_error({"--host-port=", "-P", "2", "c"}) ==
          "invalid host port '' in '': expected a number from 0 (any free port) to 65535");
    CHECK(usage_error({"-p", "1", "-P", "2", "--host-addr=", "c"}).find("invalid host address ''") == 0);
}

TEST_CASE("the option table is what the parser accepts", "[cli]")
{
    const auto table = option_table();
    // Every option portwrap has had since 0.1.0 is still there, unchanged.
    struct Expected {
        char short_name;
        const char* long_name;
        bool takes_value;
    };
    for (const Expected& expected :
         {Expected{'p', "host-port", true}, Expected{'P', "guest-port", true}, Expected{'\0', "host-addr", true},
          Expected{'\0', "allow-host-loopback", false}, Expected{'\0', "map-root", false},
          Expected{'v', "verbose", false}, Expected{'h', "help", false}, Expected{'\0', "version", false}}) {
        INFO("--" << expected.long_name);
        auto found = std::find_if(table.begin(), table.end(),
                                  [&](const OptionInfo& option) { return option.long_name == expected.long_name; });
        REQUIRE(found != table.end());
        CHECK(found->short_name == expected.short_name);
        CHECK(found->takes_value == expected.takes_value);
    }
    // ...and the parser knows every option in the table, long and short, and agrees
    // on whether it takes a value (whatever it then says about the value itself).
    auto not_rejected_as_option = [](const Args& args) {
        auto result = parse(args);
        auto* error = std::get_if<UsageError>(&result);
        return !error || (error->message.rfind("unknown option", 0) != 0 &&
                          error->message.find("takes no value") == std::string::npos &&
                          error->message.find("needs a value") == std::string::npos &&
                          error->message.rfind("internal error", 0) != 0);
    };
    for (const auto& option : table) {
        INFO("--" << option.long_name);
        const std::string name = "--" + option.long_name;
        if (option.takes_value) {
            CHECK(not_rejected_as_option({name + "=1", "-p", "1", "-P", "2", "c"}));
            CHECK(not_rejected_as_option({name, "1", "-p", "1", "-P", "2", "c"}));
            CHECK(std::get<UsageError>(parse({name})).message.find("needs a value") != std::string::npos);
        } else {
            CHECK(not_rejected_as_option({name, "-p", "1", "-P", "2", "c"}));
            CHECK(std::get<UsageError>(parse({name + "=x"})).message.find("takes no value") != std::string::npos);
        }
        if (option.short_name) {
            const std::string short_name = std::string("-") + option.short_name;
            if (option.takes_value)
                CHECK(not_rejected_as_option({short_name, "1", "-p", "1", "-P", "2", "c"}));
            else
                CHECK(not_rejected_as_option({short_name, "-p", "1", "-P", "2", "c"}));
        }
    }
}

namespace {

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("help lists each option of the table in GNU form, and nothing else", "[cli]")
{
    const std::string help = help_text();
    std::vector<std::string> listed;  // long names on the option lines of the help
    for (const auto& line : lines_of(help)) {
        // Option lines: "  -p, --host-port=PORT  ..." or "      --map-root  ...".
        if (line.rfind("  -", 0) == 0 || line.rfind("      --", 0) == 0) {
            auto dashes = line.find("--");
            auto end = line.find_first_of("= ", dashes);
            listed.push_back(line.substr(dashes + 2, end - dashes - 2));
        }
    }
    const auto table = option_table();
    REQUIRE(listed.size() == table.size());
    for (size_t i = 0; i < table.size(); ++i) {
        const auto& option = table[i];
        CHECK(listed[i] == option.long_name);
        std::string form = option.short_name ? std::string("  -") + option.short_name + ", --" : "      --";
        form += option.long_name;
        if (option.takes_value)
            form += "=";
        INFO(form);
        CHECK(help.find("\n" + form) != std::string::npos);
    }
}

TEST_CASE("help follows the GNU layout", "[cli]")
{
    const std::string help = help_text();
    CHECK(help.rfind("Usage: portwrap [OPTIONS] -p HOST_PORT -P GUEST_PORT [--] COMMAND [ARG...]\n", 0) == 0);
    for (const char* section : {"\nForwarding:\n", "\nIdentity:\n", "\nOther:\n", "\nExamples:\n", "\nExit status:\n"})
        CHECK(help.find(section) != std::string::npos);
    CHECK(help.find("Mandatory arguments to long options are mandatory for short options too.") != std::string::npos);
    for (const char* status : {"128+N", "125", "126", "127"})
        CHECK(help.find(status) != std::string::npos);
    // The last line says where to report bugs; there is no public URL to invent.
    CHECK(help.size() > 1);
    CHECK(help.back() == '\n');
    const auto lines = lines_of(help);
    CHECK(lines.back() == "Report bugs through the portwrap project's issue tracker.");
    CHECK(help.find("http://") == std::string::npos);
    CHECK(help.find("https://") == std::string::npos);
    for (const auto& line : lines) {
        INFO(line);
        CHECK(line.size() < 80);
        CHECK(line.find('\t') == std::string::npos);
        CHECK((line.empty() || line.back() != ' '));
    }
}

TEST_CASE("every example in the help parses", "[cli]")
{
    const auto lines = lines_of(help_text());
    int examples = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind("    portwrap ", 0) != 0)
            continue;
        std::string text = lines[i].substr(4);
        while (!text.empty() && text.back() == '\\' && i + 1 < lines.size())
            text = text.substr(0, text.size() - 1) + " " + lines[++i];
        Args words;
        size_t pos = 0;
        while ((pos = text.find_first_not_of(' ', pos)) != std::string::npos) {
            size_t end = text.find(' ', pos);
            words.push_back(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
            pos = end;
        }
        INFO(text);
        REQUIRE(words.front() == "portwrap");
        Options options = parse_ok(Args(words.begin() + 1, words.end()));
        CHECK(options.command.size() >= 2);
        ++examples;
    }
    CHECK(examples == 5);
}

TEST_CASE("version names portwrap's and libslirp's versions", "[cli]")
{
    const std::string version = version_text();
    CHECK(version.rfind("portwrap 0.", 0) == 0);
    CHECK(version.find(" (libslirp 4.") != std::string::npos);
    CHECK(version.size() > 2);
    CHECK(version.substr(version.size() - 2) == ")\n");
    CHECK(std::count(version.begin(), version.end(), '\n') == 1);
}

TEST_CASE("-p repeats: one forward per -p, in order", "[cli]")
{
    Options options = parse_ok({"-p", "9876:8888", "-p", "127.0.0.2:5353:53/udp", "-p", "[::1]:0:8888",
                                "--host-addr=127.0.0.5", "-p", "unix:/run/user/1000/j.sock:8888", "c"});
    REQUIRE(options.forwards.size() == 4);
    CHECK(options.forwards[0].host_addr == "127.0.0.5");  // --host-addr: for those that name none
    CHECK(options.forwards[0].host_port == 9876);
    CHECK(options.forwards[1].protocol == portwrap::forward::Protocol::Udp);
    CHECK(options.forwards[1].host_addr == "127.0.0.2");
    CHECK(options.forwards[2].ipv6);
    CHECK(options.forwards[2].host_port == 0);
    CHECK(options.forwards[3].unix_path == "/run/user/1000/j.sock");
    CHECK(options.guest_port == 8888);  // {guest-port}: the first forward's
}

TEST_CASE("-P goes with exactly one -p that names no guest port", "[cli]")
{
    const std::string single = "-P/--guest-port goes with a single -p HOST_PORT; "
                               "for several forwards write -p HOST_PORT:GUEST_PORT";
    CHECK(usage_error({"-p", "1", "-p", "2", "-P", "3", "c"}) == single);
    CHECK(usage_error({"-p", "1:4", "-P", "3", "c"}) == single);
    CHECK(usage_error({"-p", "1:4", "-p", "2", "c"}) == "missing the guest port in -p '2' (write HOST_PORT:GUEST_PORT)");
    CHECK(usage_error({"-p", "unix:/tmp/s", "c"}) ==
          "missing the guest port in -p 'unix:/tmp/s' (write unix:PATH:GUEST_PORT)");
    CHECK(parse_ok({"-p", "unix:/tmp/s", "-P", "8", "c"}).forwards.at(0).guest_port == 8);
    CHECK(parse_ok({"-p", "127.0.0.1:9", "-P", "8", "c"}).forwards.at(0).host_port == 9);
}

TEST_CASE("the same host side twice is a usage error; port 0 may repeat", "[cli]")
{
    CHECK(usage_error({"-p", "1:2", "-p", "127.0.0.1:1:3", "c"}) == "the host side 127.0.0.1:1/tcp is given twice");
    CHECK(parse_ok({"-p", "1:2", "-p", "1:2/udp", "c"}).forwards.size() == 2);
    CHECK(parse_ok({"-p", "0:2", "-p", "0:3", "c"}).forwards.size() == 2);
    CHECK(usage_error({"-p", "unix:/s:1", "-p", "unix:/s:2", "c"}) == "the host side unix:/s/tcp is given twice");
}

TEST_CASE("--ready-fd takes a descriptor number", "[cli]")
{
    CHECK(parse_ok({"-p", "1:2", "c"}).ready_fd == -1);
    CHECK(parse_ok({"--ready-fd", "3", "-p", "1:2", "c"}).ready_fd == 3);
    CHECK(parse_ok({"--ready-fd=0", "-p", "1:2", "c"}).ready_fd == 0);
    for (const char* bad : {"", "-1", "3x", "1234567890", "three"})
        CHECK(usage_error({"--ready-fd", bad, "-p", "1:2", "c"}) ==
              std::string("invalid --ready-fd '") + bad + "': expected a file descriptor number");
}

TEST_CASE("'ctl' first is a request to a running portwrap; its words pass through", "[cli]")
{
    auto result = parse({"ctl", "/run/user/1000/pw.sock", "add", "0:8888"});
    auto* ctl = std::get_if<RunCtl>(&result);
    REQUIRE(ctl != nullptr);
    CHECK(ctl->args == Args{"/run/user/1000/pw.sock", "add", "0:8888"});
    // Anywhere else, ctl is a command name.
    CHECK(parse_ok({"-p", "1:2", "ctl"}).command == Args{"ctl"});
}

TEST_CASE("--control-socket, --dns and --host-addr are kept", "[cli]")
{
    Options options = parse_ok({"--control-socket", "/tmp/c.sock", "--dns", "10.0.2.3", "--dns=fd00::3",
                                "--host-addr", "::1", "-p", "1:2", "c"});
    CHECK(options.control_socket == "/tmp/c.sock");
    CHECK(options.dns == Args{"10.0.2.3", "fd00::3"});
    CHECK(options.host_addr == "::1");
    CHECK(usage_error({"--control-socket", std::string(120, 'x'), "-p", "1:2", "c"}).find("longer than 107") !=
          std::string::npos);
}

TEST_CASE("--pid-ns is off by default and takes no value", "[cli]")
{
    CHECK_FALSE(parse_ok({"-p", "1", "-P", "2", "c"}).pid_ns);
    CHECK(parse_ok({"--pid-ns", "-p", "1", "-P", "2", "c"}).pid_ns);
    CHECK(parse_ok({"-p", "1", "-P", "2", "c", "--pid-ns"}).command == Args{"c", "--pid-ns"});
    CHECK(usage_error({"--pid-ns=yes", "-p", "1", "-P", "2", "c"}) == "option '--pid-ns' takes no value");
    CHECK(help_text().find("--pid-ns") != std::string::npos);
}

TEST_CASE("stop times are seconds with up to 3 decimals, 0 to 3600", "[cli]")
{
    CHECK(parse_seconds_ms("10") == 10'000);
    CHECK(parse_seconds_ms("0") == 0);
    CHECK(parse_seconds_ms("0.5") == 500);
    CHECK(parse_seconds_ms("2.125") == 2'125);
    CHECK(parse_seconds_ms("3600") == 3'600'000);
    for (const char* bad : {"", "3601", "-1", "1.", ".5", "1.2345", "1e3", "10s", "99999"})
        CHECK(parse_seconds_ms(bad) == -1);
}

TEST_CASE("--stop-grace, --leftover-grace and --no-forward-signals set the stop policy", "[cli]")
{
    const Options defaults = parse_ok({"-p", "1:2", "c"});
    CHECK(defaults.stop.command_grace_ms == 10'000);
    CHECK(defaults.stop.leftover_grace_ms == 2'000);
    CHECK(defaults.stop.forward_signals);
    const Options set = parse_ok({"--stop-grace=2", "--leftover-grace", "0.5", "--no-forward-signals", "-p", "1:2", "c"});
    CHECK(set.stop.command_grace_ms == 2'000);
    CHECK(set.stop.leftover_grace_ms == 500);
    CHECK_FALSE(set.stop.forward_signals);
    const auto bad = parse({"--stop-grace=soon", "-p", "1:2", "c"});
    REQUIRE(std::holds_alternative<UsageError>(bad));
    CHECK(std::get<UsageError>(bad).message ==
          "invalid --stop-grace 'soon': expected seconds from 0 to 3600, such as 10 or 0.5");
}

TEST_CASE("-T/--to-host: repeatable, each a loopback port of the host", "[cli]")
{
    Options options = parse_ok({"-T", "8081", "--to-host=127.0.0.1:5432:15432", "-T[::1]:9", "-p", "1", "-P", "2", "c"});
    REQUIRE(options.to_host.size() == 3);
    CHECK(options.to_host[0].guest_port == 8081);
    CHECK(options.to_host[0].guest_addr.empty());
    CHECK(options.to_host[1].host_port == 15432);
    CHECK(options.to_host[2].host_addr == "::1");
    CHECK(usage_error({"-T", "10.0.0.1:80", "-p", "1", "-P", "2", "c"}).find("loopback") != std::string::npos);
    CHECK(usage_error({"-T", "8081", "-T", "127.0.0.1:8081:9", "-p", "1", "-P", "2", "c"}) ==
          "the guest side of -T '127.0.0.1:8081:9' is given twice");
    CHECK(parse_ok({"-T", "127.0.0.1:8081", "-T", "[::1]:8081", "-p", "1", "-P", "2", "c"}).to_host.size() == 2);
}

TEST_CASE("--jupyterhub stands in for -p", "[cli]")
{
    Options options = parse_ok({"--jupyterhub", "--", "jupyterhub-singleuser"});
    CHECK(options.jupyterhub);
    CHECK(options.forwards.empty());
    CHECK(options.command == Args{"jupyterhub-singleuser"});
    CHECK(parse_ok({"--jupyterhub", "-p", "0:9", "-T", "5432", "c"}).forwards.size() == 1);
    CHECK(usage_error({"--jupyterhub"}) == "missing COMMAND to run");
    CHECK(usage_error({"--jupyterhub=yes", "c"}) == "option '--jupyterhub' takes no value");
}
