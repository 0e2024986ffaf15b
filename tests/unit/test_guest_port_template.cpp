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
