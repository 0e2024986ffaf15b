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
