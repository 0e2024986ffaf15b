#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "catch.h"
#include "id_map.h"

using namespace portwrap::id_map;

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

TEST_CASE("helper_problem: root's and privileged, or nothing", "[id-map]")
{
    HelperFacts good{"/usr/bin/newuidmap", true, false, false, true};
    CHECK(helper_problem(good, 1001).empty());
    HelperFacts caps = good;
    caps.setuid_root = false;
    caps.file_capabilities = true;
    CHECK(helper_problem(caps, 1001).empty());

    HelperFacts missing;
    CHECK(helper_problem(missing, 1001) == "not found in /usr/bin, /bin, /usr/sbin or /sbin");
    CHECK(helper_problem(missing, 0) == helper_problem(missing, 1001));

    // Not root's (or writable by others): never run, not even by root. File
    // capabilities do not make up for it (a user can set namespaced ones).
    HelperFacts foreign = caps;
    foreign.root_owned = false;
    CHECK(helper_problem(foreign, 1001).find("not a regular file owned by root") != std::string::npos);
    CHECK(!helper_problem(foreign, 0).empty());

    HelperFacts plain = good;
    plain.setuid_root = false;
    CHECK(helper_problem(plain, 1001) == "is neither setuid root nor has file capabilities");
    CHECK(helper_problem(plain, 0).empty());  // root needs no setuid bit
    HelperFacts nosuid = good;
    nosuid.nosuid_mount = true;
    CHECK(helper_problem(nosuid, 1001) == "is on a nosuid mount");
    CHECK(helper_problem(nosuid, 0).empty());
}

TEST_CASE("find_helper looks only in the directories given and prefers a usable helper", "[id-map]")
{
    TempDir a, b;
    const std::string dir_a = a.path, dir_b = b.path;
    const char* dirs[] = {dir_a.c_str(), dir_b.c_str()};
    CHECK(find_helper("newuidmap", 1001, dirs).path.empty());
    const std::string planted = b.make_file("newuidmap", 0755);
    const HelperFacts found = find_helper("newuidmap", 1001, dirs);
    CHECK(found.path == planted);  // there, but not usable: reported, never run
    CHECK(!found.setuid_root);
    CHECK(!helper_problem(found, 1001).empty());
    // The real one, when the machine has a usable one, wins over an unusable one
    // in an earlier directory.
    const HelperFacts real = find_helper("newuidmap", 1001);
    if (helper_problem(real, 1001).empty()) {
        const char* with_real[] = {dir_b.c_str(), "/usr/bin", "/bin", "/usr/sbin", "/sbin"};
        CHECK(find_helper("newuidmap", 1001, with_real).path == real.path);
    }
}

TEST_CASE("the default directories are root's system directories, never PATH", "[id-map]")
{
    const char* saved = std::getenv("PATH");
    const std::string old_path = saved ? saved : "";
    TempDir a;
    a.make_file("newuidmap", 04755);
    ::setenv("PATH", a.path.c_str(), 1);
    const HelperFacts found = find_helper("newuidmap", 1001);
    ::setenv("PATH", old_path.c_str(), 1);
    CHECK(found.path.rfind(a.path, 0) != 0);
    for (const char* dir : kHelperDirectories)
        CHECK(std::string(dir).rfind("/usr/local", 0) != 0);
}
