#include <string>

#include "catch.h"
#include "socket_owner.h"

using namespace portwrap::socket_owner;

TEST_CASE("the owner file's text round-trips", "[socket-owner]")
{
    const Owner owner{"login2.cluster", 31337};
    CHECK(format(owner) == "login2.cluster 31337\n");
    CHECK(parse(format(owner)) == owner);
    CHECK(parse("node7 1") == Owner{"node7", 1});
    CHECK(path_for("/home/u/.jupyter.sock") == "/home/u/.jupyter.sock.host");
}

TEST_CASE("anything but HOST PID is not an owner", "[socket-owner]")
{
    for (const char* text : {"", "\n", "node7", "node7 ", " 12", "node7 12 13", "node7 -12", "node7 012",
                             "node7 12x", "node7 1234567890", "no\x1b[2Jde 12", "node7  12", "node7 12\n\n"})
        CHECK_FALSE(parse(text).has_value());
}
