#include "catch.h"
#include "guest_port_template.h"

using portwrap::expand_guest_port;
using Args = std::vector<std::string>;

TEST_CASE("every {guest-port} in every argument is replaced", "[template]")
{
    CHECK(expand_guest_port({"jupyter", "lab", "--port={guest-port}"}, 8888) ==
          Args{"jupyter", "lab", "--port=8888"});
    CHECK(expand_guest_port({"{guest-port}{guest-port}", "a{guest-port}b{guest-port}c"}, 1) == Args{"11", "a1b1c"});
}

TEST_CASE("arguments without the placeholder pass through unchanged", "[template]")
{
    CHECK(expand_guest_port({"{guest-port", "guest-port}", "{GUEST-PORT}", "", "{{guest-port}}"}, 65535) ==
          Args{"{guest-port", "guest-port}", "{GUEST-PORT}", "", "{65535}"});
}

TEST_CASE("--print-url: {host} and {port} from the first forward's host side", "[template]")
{
    using portwrap::expand_url;
    CHECK(expand_url("http://{host}/lab", "127.0.0.1:40123") == "http://127.0.0.1:40123/lab");
    CHECK(expand_url("http://localhost:{port}/?x={port}", "127.0.0.1:40123") == "http://localhost:40123/?x=40123");
    CHECK(expand_url("http://{host}/", "[::1]:9876") == "http://[::1]:9876/");
    CHECK(expand_url("ssh -L 9876:{host}", "unix:/tmp/j.sock") == "ssh -L 9876:/tmp/j.sock");
    CHECK(expand_url("{port}", "unix:/tmp/a:b") == "");
    CHECK(expand_url("no placeholders", "127.0.0.1:1") == "no placeholders");
}

TEST_CASE("{host} and {host-port}: the first forward's host side as bound", "[template]")
{
    using portwrap::expand_host_side;
    CHECK(expand_host_side({"--report={host}", "--port={host-port}", "{guest-port}"}, "127.0.0.1:40123") ==
          Args{"--report=127.0.0.1:40123", "--port=40123", "{guest-port}"});
    CHECK(expand_host_side({"{host}", "{host-port}"}, "[::1]:9876") == Args{"[::1]:9876", "9876"});
    CHECK(expand_host_side({"{host}", "x{host-port}y"}, "unix:/run/user/1/j.sock") ==
          Args{"unix:/run/user/1/j.sock", "xy"});
    CHECK(expand_host_side({"{host-port}"}, "127.0.0.1:5353/udp") == Args{"5353"});
    CHECK(expand_host_side({"{host", "host-port}", "{HOST}"}, "127.0.0.1:1") == Args{"{host", "host-port}", "{HOST}"});
}

TEST_CASE("the command's environment names every forward's host side", "[template]")
{
    using portwrap::forward_environment;
    using namespace std::string_literals;
    CHECK(forward_environment({"127.0.0.1:40123", "127.0.0.1:5353/udp"},
                              {"127.0.0.1:40123:8888/tcp", "127.0.0.1:5353:53/udp"}) ==
          "PORTWRAP_HOST=127.0.0.1:40123\0PORTWRAP_HOST_PORT=40123\0"
          "PORTWRAP_FORWARDS=127.0.0.1:40123:8888/tcp 127.0.0.1:5353:53/udp\0"s);
    // A Unix socket has no port: the name alone unsets an inherited one.
    CHECK(forward_environment({"unix:/tmp/j.sock"}, {"unix:/tmp/j.sock:8888"}) ==
          "PORTWRAP_HOST=unix:/tmp/j.sock\0PORTWRAP_HOST_PORT\0PORTWRAP_FORWARDS=unix:/tmp/j.sock:8888\0"s);
    CHECK(forward_environment({}, {}).empty());
}
