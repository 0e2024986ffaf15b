#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "catch.h"
#include "error.h"
#include "path_safety.h"

using namespace portwrap;
using namespace portwrap::path_safety;

namespace {

// The Error check_parents throws for `path`, or "" if it throws none.
std::string refusal(const std::string& path)
{
    try {
        check_parents(path, "ctx", ::geteuid());
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("directories only the user or root can write to are safe", "[path-safety]")
{
    CHECK(judge_directory("/", 0, S_IFDIR | 0755, 1000).empty());
    CHECK(judge_directory("/home/u", 1000, S_IFDIR | 0700, 1000).empty());
    CHECK(judge_directory("/home/u", 1000, S_IFDIR | 0755, 1000).empty());
    CHECK(judge_directory("/tmp", 0, S_IFDIR | 01777, 1000).empty());           // sticky
    CHECK(judge_directory("/srv/team", 1000, S_IFDIR | 03775, 1000).empty());   // setgid and sticky
    CHECK(judge_directory("/root/x", 0, S_IFDIR | 0700, 0).empty());
}

TEST_CASE("a directory others can write to is unsafe", "[path-safety]")
{
    CHECK(judge_directory("/srv/team", 1000, S_IFDIR | 0775, 1000) ==
          "the directory /srv/team (mode 0775) is writable by its group and not sticky, so they could replace what "
          "is in it: run 'chmod g-w /srv/team' or choose a directory only you can write to");
    CHECK(judge_directory("/srv/all", 0, S_IFDIR | 0777, 1000).find("writable by others") != std::string::npos);
    CHECK(judge_directory("/srv/all", 0, S_IFDIR | 0777, 1000).find("chmod go-w /srv/all") != std::string::npos);
    CHECK(judge_directory("/srv/w", 1000, S_IFDIR | 0757, 1000).find("(mode 0757) is writable by others") !=
          std::string::npos);
}

TEST_CASE("a directory or link of another user is unsafe", "[path-safety]")
{
    CHECK(judge_directory("/home/v", 1001, S_IFDIR | 0755, 1000) ==
          "the directory /home/v belongs to uid 1001, who could replace what is in it: choose a directory of your own");
    CHECK(judge_directory("/tmp/v", 1001, S_IFDIR | 01777, 1000).find("belongs to uid 1001") != std::string::npos);
    CHECK(judge_link("/tmp/link", 0, 1000).empty());
    CHECK(judge_link("/tmp/link", 1000, 1000).empty());
    CHECK(judge_link("/tmp/link", 1001, 1000).find("the symbolic link /tmp/link on the way belongs to uid 1001") == 0);
}

TEST_CASE("the walker finds an unsafe directory on the way, through links", "[path-safety]")
{
    char base_template[] = "/tmp/portwrap-unit.XXXXXX";
    REQUIRE(::mkdtemp(base_template));
    const std::string base = base_template;
    REQUIRE(::mkdir((base + "/open").c_str(), 0700) == 0);
    REQUIRE(::chmod((base + "/open").c_str(), 0770) == 0);
    REQUIRE(::mkdir((base + "/open/own").c_str(), 0700) == 0);
    REQUIRE(::mkdir((base + "/sticky").c_str(), 0700) == 0);
    REQUIRE(::chmod((base + "/sticky").c_str(), 01777) == 0);
    REQUIRE(::symlink((base + "/open/own").c_str(), (base + "/sticky/link").c_str()) == 0);

    CHECK(refusal(base + "/sticky/x.sock").empty());
    CHECK(refusal(base + "/missing/dir/x.sock").empty());  // bind() will say it
    // an ancestor, not only the parent, counts
    CHECK(refusal(base + "/open/own/x.sock") ==
                      "ctx: the directory " + base + "/open (mode 0770) is writable by its group and not sticky, "
                      "so they could replace what is in it: run 'chmod g-w " + base +
                      "/open' or choose a directory only you can write to");
    // through a link in a safe directory to an unsafe one, and with '..'
    CHECK(contains(refusal(base + "/sticky/link/x.sock"), base + "/open (mode 0770)"));
    CHECK(contains(refusal(base + "/sticky/../open/own/x.sock"), base + "/open (mode 0770)"));
    // relative to the working directory
    char cwd[4096];
    REQUIRE(::getcwd(cwd, sizeof cwd));
    REQUIRE(::chdir((base + "/open/own").c_str()) == 0);
    CHECK(contains(refusal("x.sock"), base + "/open (mode 0770)"));
    REQUIRE(::chdir(cwd) == 0);

    std::system(("rm -rf '" + base + "'").c_str());
}
