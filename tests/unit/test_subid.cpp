#include "catch.h"
#include "subid.h"

using namespace portwrap::subid;
using Lines = std::vector<MapLine>;

TEST_CASE("passwd text gives the name of a uid", "[subid]")
{
    const char* passwd = "root:x:0:0:root:/root:/bin/bash\n"
                         "# comment\n"
                         "\n"
                         "broken line\n"
                         "alice:x:1001:1001::/home/alice:/bin/sh\n"
                         "bob:x:1002:1002::/home/bob:/bin/sh";
    CHECK(user_name_from_passwd(passwd, 0) == "root");
    CHECK(user_name_from_passwd(passwd, 1001) == "alice");
    CHECK(user_name_from_passwd(passwd, 1002) == "bob");
    CHECK_FALSE(user_name_from_passwd(passwd, 1003).has_value());
}

TEST_CASE("subuid lines match by numeric id or by name, in file order", "[subid]")
{
    const char* subuid = "alice:100000:65536\n"
                         "1002:200000:1000\n"
                         "# bob:1:1\n"
                         "bob:300000:10\n"
                         "carol:400000:65536\n";
    CHECK(ranges_for(subuid, 1001, "alice") == std::vector<Range>{{100000, 65536}});
    CHECK(ranges_for(subuid, 1002, "bob") == std::vector<Range>{{200000, 1000}, {300000, 10}});
    CHECK(ranges_for(subuid, 1002, "") == std::vector<Range>{{200000, 1000}});
    CHECK(ranges_for(subuid, 5000, "dave").empty());
}

TEST_CASE("malformed subuid lines are skipped", "[subid]")
{
    const char* subuid = "alice:100000\n"
                         "alice:x:65536\n"
                         "alice:100000:0\n"
                         "alice:100000:65536:extra\n"
                         "alice:-1:5\n"
                         "alice:4294967295:2\n"
                         "alice:500000:7";
    CHECK(ranges_for(subuid, 1001, "alice") == std::vector<Range>{{500000, 7}});
}

TEST_CASE("without ranges the map is the single own id", "[subid]")
{
    CHECK(plan_map(1001, {}, false) == Lines{{1001, 1001, 1}});
    CHECK(plan_map(1001, {}, true) == Lines{{0, 1001, 1}});
    CHECK(plan_map(0, {}, false) == Lines{{0, 0, 1}});
}

TEST_CASE("subordinate ranges are mapped around the user's own id", "[subid]")
{
    // ids 0..1000 inside come from the range, 1001 is the user, 1002.. the rest.
    CHECK(plan_map(1001, {{100000, 65536}}, false) ==
          Lines{{0, 100000, 1001}, {1001, 1001, 1}, {1002, 101001, 64535}});
    // With --map-root the user is 0 and the range starts at 1.
    CHECK(plan_map(1001, {{100000, 65536}}, true) == Lines{{0, 1001, 1}, {1, 100000, 65536}});
    // Root's own id is 0: the range follows it.
    CHECK(plan_map(0, {{100000, 65536}}, false) == Lines{{0, 0, 1}, {1, 100000, 65536}});
}

TEST_CASE("a range smaller than the user's id fills up to it; several ranges follow each other", "[subid]")
{
    CHECK(plan_map(1001, {{100000, 10}, {200000, 5}}, false) ==
          Lines{{0, 100000, 10}, {10, 200000, 5}, {1001, 1001, 1}});
    CHECK(plan_map(12, {{100000, 10}, {200000, 5}}, false) ==
          Lines{{0, 100000, 10}, {10, 200000, 2}, {12, 12, 1}, {13, 200002, 3}});
}

TEST_CASE("repeated and overlapping ranges map each id once", "[subid]")
{
    const Lines one_range{{0, 100000, 1001}, {1001, 1001, 1}, {1002, 101001, 64535}};
    CHECK(plan_map(1001, {{100000, 65536}, {100000, 65536}}, false) == one_range);
    CHECK(plan_map(1001, {{100000, 65536}, {100010, 5}}, false) == one_range);
    // A later range that sticks out on both sides adds only what is new.
    CHECK(plan_map(0, {{100, 10}, {95, 20}}, false) ==
          Lines{{0, 0, 1}, {1, 100, 10}, {11, 95, 5}, {16, 110, 5}});
    // The user's own id inside a subordinate range is not mapped twice.
    CHECK(plan_map(1001, {{1000, 3}}, false) == Lines{{0, 1000, 1}, {1, 1002, 1}, {1001, 1001, 1}});
}

TEST_CASE("the map never exceeds the kernel's 340 lines", "[subid]")
{
    std::vector<Range> many;
    for (uint32_t i = 0; i < 500; ++i)
        many.push_back({100000 + i * 10, 5});
    CHECK(plan_map(1001, many, false).size() == 340);
}

TEST_CASE("map lines render as helper arguments and as proc file text", "[subid]")
{
    Lines lines{{0, 100000, 1001}, {1001, 1001, 1}};
    CHECK(map_arguments(lines) == std::vector<std::string>{"0", "100000", "1001", "1001", "1001", "1"});
    CHECK(map_file_text(lines) == "0 100000 1001\n1001 1001 1\n");
}
