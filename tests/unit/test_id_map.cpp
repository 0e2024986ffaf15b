#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "catch.h"
#include "id_map.h"

using portwrap::id_map::find_in_path;

namespace {
struct TempDir {
    std::string path;
    TempDir()
    {
        char name[] = "/tmp/portwrap-unit-XXXXXX";
        REQUIRE(mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string make_file(const std::string& name, mode_t mode) const
    {
        std::string file = path + "/" + name;
        std::ofstream(file) << "#!/bin/sh\n";
        chmod(file.c_str(), mode);
        return file;
    }
};
}  // namespace

TEST_CASE("find_in_path returns the first executable match", "[id-map]")
{
    TempDir a, b;
    b.make_file("newuidmap", 0755);
    CHECK(find_in_path("newuidmap", a.path + ":" + b.path) == b.path + "/newuidmap");
    a.make_file("newuidmap", 0755);
    CHECK(find_in_path("newuidmap", a.path + ":" + b.path) == a.path + "/newuidmap");
}

TEST_CASE("find_in_path skips non-executable files, relative and empty entries", "[id-map]")
{
    TempDir a;
    a.make_file("helper", 0644);
    CHECK(find_in_path("helper", a.path).empty());
    CHECK(find_in_path("sh", "::relative/dir:.").empty());
    CHECK(find_in_path("sh", "::/bin").find("/sh") != std::string::npos);
    CHECK(find_in_path("no-such-helper-anywhere", "/usr/bin:/bin").empty());
}
