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
        CHECK(options.host_port == 9876);
        CHECK(options.guest_port == 8888);
        CHECK(options.command == Args{"cmd"});
        CHECK(options.host_addr_text == "127.0.0.1");
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
    CHECK(options.host_addr_text == "0.0.0.0");
    CHECK(options.host_addr.s_addr == 0);
}

TEST_CASE("ports outside 1..65535 are usage errors naming the value", "[cli]")
{
    CHECK(usage_error({"-p", "0", "-P", "2", "c"}) == "invalid host port '0': expected a number from 1 to 65535");
    CHECK(usage_error({"-p", "65536", "-P", "2", "c"}).find("'65536'") != std::string::npos);
    CHECK(usage_error({"-p", "1", "-P", "abc", "c"}) == "invalid guest port 'abc': expected a number from 1 to 65535");
    CHECK(usage_error({"-p", "-5", "-P", "2", "c"}).find("'-5'") != std::string::npos);
    CHECK(usage_error({"-p", "", "-P", "2", "c"}).find("''") != std::string::npos);
    CHECK(usage_error({"-p", " 80", "-P", "2", "c"}).find("' 80'") != std::string::npos);
}

TEST_CASE("missing pieces are named", "[cli]")
{
    CHECK(usage_error({"-P", "2", "c"}) == "missing -p/--host-port");
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
    CHECK(usage_error({"--host-addr", "::1", "-p", "1", "-P", "2", "c"}).find("'::1'") != std::string::npos);
}

TEST_CASE("help and version win wherever they appear among the options", "[cli]")
{
    CHECK(std::holds_alternative<ShowHelp>(parse({"-h"})));
    CHECK(std::holds_alternative<ShowHelp>(parse({"-p", "1", "--help"})));
    CHECK(std::holds_alternative<ShowVersion>(parse({"--version"})));
    // ...but not after the command starts: then they belong to the command.
    CHECK(std::holds_alternative<Options>(parse({"-p", "1", "-P", "2", "c", "--help"})));
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
