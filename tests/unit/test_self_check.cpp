#include <cerrno>
#include <cstring>

#include "catch.h"
#include "self_check.h"

using namespace portwrap::self_check;
using portwrap::start::Stage;

namespace {

// A machine where everything works for portwrap-test (uid 1001), who has
// subordinate ids and setuid helpers.
Facts working_machine()
{
    Facts f;
    f.kernel_release = "6.1.0-18-amd64";
    f.machine = "x86_64";
    f.exe_path = "/usr/local/bin/portwrap";
    f.uid = 1001;
    f.gid = 1001;
    f.user_name = "alice";
    f.max_user_namespaces = 15000;
    f.subuid_text = "root:100000:65536\nalice:131072:65536\n";
    f.subgid_text = "alice:131072:65536\n";
    f.newuidmap = {"/usr/bin/newuidmap", true, false, false, true};
    f.newgidmap = {"/usr/bin/newgidmap", true, false, false, true};
    f.tun = {0, true, 10, 200, 0666};
    f.probe.ran = true;
    f.probe.used_helpers = true;
    f.probe.uids_mapped = 65537;
    f.probe.gids_mapped = 65537;
    f.probe.uid_inside = 1001;
    f.probe.gid_inside = 1001;
    return f;
}

Item item(const std::vector<Item>& items, const std::string& name)
{
    for (const auto& i : items)
        if (i.name == name)
            return i;
    FAIL("no item " << name);
    throw;
}

Status status(const Facts& f, const std::string& name) { return item(assess(f), name).status; }

}  // namespace

TEST_CASE("kernel releases parse to major and minor", "[self-check]")
{
    CHECK(parse_kernel_release("6.1.0-18-amd64") == std::pair{6, 1});
    CHECK(parse_kernel_release("3.10.0-1160.el7.x86_64") == std::pair{3, 10});
    CHECK(parse_kernel_release("6.18") == std::pair{6, 18});
    CHECK_FALSE(parse_kernel_release("linux").has_value());
    CHECK_FALSE(parse_kernel_release("6.").has_value());
}

TEST_CASE("a working machine gives ok on every line and exit status 0", "[self-check]")
{
    const Facts f = working_machine();
    const auto items = assess(f);
    for (const auto& i : items) {
        INFO(format_item(i));
        CHECK(i.status == Status::Ok);
        CHECK(i.fix.empty());
    }
    CHECK(items.size() == 14);
    CHECK(exit_status(items) == 0);
    CHECK(summary_line(items, f) == "summary: ok (0 FAIL, 0 warnings): portwrap can run here for alice (uid 1001)");
}

TEST_CASE("lines have a stable shape: status padded to 7, name, detail, fix", "[self-check]")
{
    CHECK(format_item({Status::Ok, "kernel", "Linux 6.1 x86_64", ""}) == "ok      kernel: Linux 6.1 x86_64");
    CHECK(format_item({Status::Fail, "/dev/net/tun", "a\nb", "chmod"}) == "FAIL    /dev/net/tun: a b; fix: chmod");
    CHECK(format_item({Status::Warning, "x", "y", "z"}) == "warning x: y; fix: z");
    CHECK(format_item({Status::Skipped, "x", "y", ""}) == "skipped x: y");
}

TEST_CASE("an old kernel fails", "[self-check]")
{
    Facts f = working_machine();
    f.kernel_release = "3.7.10";
    CHECK(status(f, "kernel") == Status::Fail);
    f.kernel_release = "3.8.0";
    CHECK(status(f, "kernel") == Status::Ok);
}

TEST_CASE("elevated privileges fail and nothing is tried", "[self-check]")
{
    Facts f = working_machine();
    f.elevated = true;
    f.probe = {};
    const auto items = assess(f);
    CHECK(item(items, "privileges").status == Status::Fail);
    CHECK(item(items, "privileges").fix == "as root: chmod 0755 /usr/local/bin/portwrap && setcap -r /usr/local/bin/portwrap");
    for (const char* name : {"userns", "id-map", "/dev/net/tun", "network"})
        CHECK(item(items, name).status == Status::Skipped);
    CHECK(exit_status(items) == 1);
}

TEST_CASE("user namespaces disabled by a sysctl", "[self-check]")
{
    Facts f = working_machine();
    f.probe = {};
    f.probe.ran = true;
    f.probe.failed_at = Stage::Clone;
    f.probe.err = ENOSPC;

    SECTION("user.max_user_namespaces=0")
    {
        f.max_user_namespaces = 0;
        const auto items = assess(f);
        CHECK(item(items, "user.max_user_namespaces").status == Status::Fail);
        CHECK(item(items, "user.max_user_namespaces").fix.find("sysctl -w user.max_user_namespaces=15000") !=
              std::string::npos);
        CHECK(item(items, "userns").status == Status::Fail);
        CHECK(item(items, "userns").fix == "see the user.max_user_namespaces line");
        CHECK(item(items, "id-map").status == Status::Skipped);
        CHECK(exit_status(items) == 1);
    }
    SECTION("the limit is reached, or 0 further out")
    {
        const auto items = assess(f);
        CHECK(item(items, "user.max_user_namespaces").status == Status::Ok);
        CHECK(item(items, "userns").fix.find("reached user.max_user_namespaces") != std::string::npos);
    }
    SECTION("Debian's kernel.unprivileged_userns_clone=0")
    {
        f.unprivileged_userns_clone = 0;
        f.probe.err = EPERM;
        const auto items = assess(f);
        CHECK(item(items, "kernel.unprivileged_userns_clone").status == Status::Fail);
        CHECK(item(items, "kernel.unprivileged_userns_clone").fix.find("sysctl -w kernel.unprivileged_userns_clone=1") !=
              std::string::npos);
        CHECK(item(items, "userns").fix == "see the kernel.unprivileged_userns_clone line");
    }
}

TEST_CASE("kernel.unprivileged_userns_clone=0 does not stop a privileged user", "[self-check]")
{
    Facts f = working_machine();
    f.unprivileged_userns_clone = 0;
    CHECK(status(f, "kernel.unprivileged_userns_clone") == Status::Ok);
}

TEST_CASE("Ubuntu's AppArmor restriction", "[self-check]")
{
    Facts f = working_machine();
    f.apparmor_restrict_unprivileged_userns = 1;
    SECTION("it denies capabilities: TUNSETIFF fails with EPERM")
    {
        f.probe.failed_at = Stage::TunSetIff;
        f.probe.err = EPERM;
        f.probe.error = std::string("cannot create TAP device tap0 (TUNSETIFF on /dev/net/tun): ") + std::strerror(EPERM);
        const auto items = assess(f);
        const Item apparmor = item(items, "kernel.apparmor_restrict_unprivileged_userns");
        CHECK(apparmor.status == Status::Fail);
        CHECK(apparmor.fix.find("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0") != std::string::npos);
        CHECK(apparmor.fix.find("/usr/local/bin/portwrap") != std::string::npos);
        CHECK(item(items, "/dev/net/tun").status == Status::Fail);
        CHECK(item(items, "/dev/net/tun").fix == "see the kernel.apparmor_restrict_unprivileged_userns line");
        CHECK(item(items, "network").status == Status::Skipped);
        CHECK(exit_status(items) == 1);
    }
    SECTION("a profile allows this binary: everything worked")
    {
        CHECK(status(f, "kernel.apparmor_restrict_unprivileged_userns") == Status::Ok);
    }
    SECTION("not tried: a warning")
    {
        f.probe.failed_at = Stage::IdMap;
        f.probe.error = "x";
        CHECK(status(f, "kernel.apparmor_restrict_unprivileged_userns") == Status::Warning);
    }
}

TEST_CASE("missing subordinate ids are a warning with the exact line to add", "[self-check]")
{
    Facts f = working_machine();
    f.subuid_text = "root:100000:65536\nbob:131072:65536\n";
    f.subgid_text = "bob:131072:65536\n";
    f.probe.used_helpers = false;
    const auto items = assess(f);
    const Item subuid = item(items, "/etc/subuid");
    CHECK(subuid.status == Status::Warning);
    CHECK(subuid.fix.find("usermod --add-subuids 196608-262143 alice") != std::string::npos);
    CHECK(subuid.fix.find("'alice:196608:65536'") != std::string::npos);
    CHECK(item(items, "/etc/subgid").fix.find("usermod --add-subgids 196608-262143 alice") != std::string::npos);
    CHECK(item(items, "newuidmap").status == Status::Ok);  // present, just not used
    CHECK(item(items, "newuidmap").detail.find("not used") != std::string::npos);
    CHECK(exit_status(items) == 0);
}

TEST_CASE("a user known only by uid gets a line with the uid", "[self-check]")
{
    Facts f = working_machine();
    f.user_name.clear();
    f.subuid_text = "";
    CHECK(item(assess(f), "/etc/subuid").fix == "optional, as root: add the line '1001:196608:65536' to /etc/subuid");
}

TEST_CASE("entries in only one file are not used", "[self-check]")
{
    Facts f = working_machine();
    f.subgid_text = std::nullopt;
    f.subgid_errno = ENOENT;
    const auto items = assess(f);
    CHECK(item(items, "/etc/subuid").status == Status::Warning);
    CHECK(item(items, "/etc/subuid").fix == "see the /etc/subgid line");
    CHECK(item(items, "/etc/subgid").status == Status::Warning);
    CHECK(item(items, "/etc/subgid").detail.find("does not exist") != std::string::npos);
    CHECK(exit_status(items) == 0);
}

TEST_CASE("malformed lines of the user's are reported", "[self-check]")
{
    auto findings = inspect_subid("# c\nalice:131072\nbob:1:2\n1001:x:5\nalice:200000:10\n", 1001, "alice");
    REQUIRE(findings.ranges.size() == 1);
    CHECK(findings.ranges[0] == portwrap::subid::Range{200000, 10});
    CHECK(findings.malformed == std::vector<std::string>{"line 2: 'alice:131072'", "line 4: '1001:x:5'"});

    Facts f = working_machine();
    f.subuid_text = "alice:131072\n";
    const Item subuid = item(assess(f), "/etc/subuid");
    CHECK(subuid.status == Status::Warning);
    CHECK(subuid.detail.find("ignored malformed line 1: 'alice:131072'") != std::string::npos);
    CHECK(exit_status(assess(f)) == 0);
}

TEST_CASE("a range holding the user's own id is a warning: the id is mapped once", "[self-check]")
{
    Facts f = working_machine();
    f.subuid_text = "alice:1000:65536\n";
    const Item subuid = item(assess(f), "/etc/subuid");
    CHECK(subuid.status == Status::Warning);
    CHECK(subuid.detail.find("contains the user's own uid 1001") != std::string::npos);
    CHECK(exit_status(assess(f)) == 0);
    // Without helpers, the range is not used: only a warning.
    f.newgidmap.path.clear();
    CHECK(status(f, "/etc/subuid") == Status::Warning);
}

TEST_CASE("newuidmap and newgidmap", "[self-check]")
{
    Facts f = working_machine();
    SECTION("not found: the single-id map, a warning")
    {
        f.newuidmap.path.clear();
        const auto items = assess(f);
        CHECK(item(items, "newuidmap").status == Status::Warning);
        CHECK(item(items, "newuidmap").fix.find("apt-get install uidmap") != std::string::npos);
        CHECK(item(items, "newgidmap").detail.find("twin is missing") != std::string::npos);
        CHECK(exit_status(items) == 0);
    }
    SECTION("not setuid: not run, a warning for a user (the single-id map); fine for root")
    {
        f.newuidmap.setuid_root = false;
        CHECK(status(f, "newuidmap") == Status::Warning);
        CHECK(item(assess(f), "newuidmap").detail.find("does not run it") != std::string::npos);
        CHECK(item(assess(f), "newuidmap").fix.find("chmod 4755 /usr/bin/newuidmap") != std::string::npos);
        CHECK(item(assess(f), "/etc/subuid").detail.find("missing or unusable") != std::string::npos);
        f.newuidmap.file_capabilities = true;
        CHECK(status(f, "newuidmap") == Status::Ok);
        f.newuidmap.file_capabilities = false;
        f.uid = 0;
        CHECK(status(f, "newuidmap") == Status::Ok);
    }
    SECTION("nosuid mount")
    {
        f.newgidmap.nosuid_mount = true;
        CHECK(status(f, "newgidmap") == Status::Warning);
    }
    SECTION("not root's: never run")
    {
        f.newgidmap.root_owned = false;
        CHECK(status(f, "newgidmap") == Status::Warning);
        CHECK(item(assess(f), "newgidmap").detail.find("not a regular file owned by root") != std::string::npos);
    }
    SECTION("the helper fails for real")
    {
        f.probe.failed_at = Stage::IdMap;
        f.probe.error = "/usr/bin/newuidmap failed (exit status 1): newuidmap: write to uid_map failed: Operation not permitted";
        const auto items = assess(f);
        CHECK(item(items, "id-map").status == Status::Fail);
        CHECK(item(items, "id-map").detail == f.probe.error);
        CHECK(item(items, "id-map").fix == portwrap::start::hint(Stage::IdMap, 0));
        CHECK(item(items, "id-map").fix.find("/etc/subuid") != std::string::npos);
        CHECK(item(items, "/dev/net/tun").status == Status::Skipped);
    }
}

TEST_CASE("/dev/net/tun", "[self-check]")
{
    Facts f = working_machine();
    SECTION("Permission denied for a user")
    {
        f.tun.mode = 0600;
        f.probe.failed_at = Stage::OpenTun;
        f.probe.err = EACCES;
        f.probe.error = "cannot open /dev/net/tun: Permission denied";
        const Item tun = item(assess(f), "/dev/net/tun");
        CHECK(tun.status == Status::Fail);
        CHECK(tun.fix == "as root: chmod 0666 /dev/net/tun");
        CHECK(tun.detail.find("mode 0600") != std::string::npos);
    }
    SECTION("missing")
    {
        f.tun = {ENOENT};
        f.probe.failed_at = Stage::OpenTun;
        f.probe.err = ENOENT;
        f.probe.error = "cannot open /dev/net/tun: No such file or directory";
        CHECK(item(assess(f), "/dev/net/tun").fix.find("modprobe tun") != std::string::npos);
    }
    SECTION("not tried, but visibly unusable")
    {
        f.probe.failed_at = Stage::IdMap;
        f.probe.error = "x";
        f.tun.mode = 0600;
        CHECK(status(f, "/dev/net/tun") == Status::Fail);
        f.uid = 0;
        CHECK(status(f, "/dev/net/tun") == Status::Skipped);
    }
    SECTION("not the tun device: TUNSETIFF fails")
    {
        f.tun = {0, true, 1, 3, 0666};
        f.probe.failed_at = Stage::TunSetIff;
        f.probe.err = ENOTTY;
        f.probe.error = "cannot create TAP device tap0 (TUNSETIFF on /dev/net/tun): Inappropriate ioctl for device";
        const Item tun = item(assess(f), "/dev/net/tun");
        CHECK(tun.status == Status::Fail);
        CHECK(tun.fix.find("mknod /dev/net/tun c 10 200") != std::string::npos);
    }
    SECTION("a file that is no device: open fails, and the fix makes the device")
    {
        f.tun = {0, false, 0, 0, 0600};
        f.probe.failed_at = Stage::OpenTun;
        f.probe.err = EACCES;
        f.probe.error = "cannot open /dev/net/tun: Permission denied";
        CHECK(item(assess(f), "/dev/net/tun").fix.find("mknod /dev/net/tun c 10 200") != std::string::npos);
    }
    SECTION("root may use a 0600 device")
    {
        f.uid = 0;
        f.tun.mode = 0600;
        CHECK(status(f, "/dev/net/tun") == Status::Ok);
    }
}

TEST_CASE("rtnetlink failing inside is a network FAIL", "[self-check]")
{
    Facts f = working_machine();
    f.probe.failed_at = Stage::Network;
    f.probe.err = EPERM;
    f.probe.error = "cannot bring up lo (rtnetlink): Operation not permitted";
    const auto items = assess(f);
    CHECK(item(items, "network").status == Status::Fail);
    CHECK(item(items, "network").fix == portwrap::start::hint(Stage::Network, EPERM));
    CHECK(item(items, "/dev/net/tun").status == Status::Ok);
    CHECK(exit_status(items) == 1);
}

// The verdicts come from the report's stage and errno: a message whose words name
// another cause ("TUNSETIFF", "not allowed", a strerror text) changes nothing.
TEST_CASE("no verdict or fix depends on the message's words", "[self-check]")
{
    const std::string misleading = std::string("TUNSETIFF not allowed map failed: cannot run ") +
                                   std::strerror(EPERM) + " " + std::strerror(ENOENT) + " " + std::strerror(EACCES);
    for (Stage stage : {Stage::Clone, Stage::IdMap, Stage::OpenTun, Stage::TunSetIff, Stage::Network}) {
        for (int err : {0, EPERM, ENOENT, EINVAL}) {
            Facts plain = working_machine();
            plain.probe.failed_at = stage;
            plain.probe.err = err;
            plain.probe.error = "x";
            Facts worded = plain;
            worded.probe.error = misleading;
            const auto a = assess(plain), b = assess(worded);
            REQUIRE(a.size() == b.size());
            for (size_t i = 0; i < a.size(); ++i) {
                CAPTURE(portwrap::start::stage_name(stage), err, a[i].name);
                CHECK(a[i].status == b[i].status);
                CHECK(a[i].fix == b[i].fix);
            }
        }
    }
}

TEST_CASE("a free range is suggested above every range in both files", "[self-check]")
{
    CHECK(suggest_range_start("", "", 65536) == 131072);
    CHECK(suggest_range_start("a:100000:65536\n", "", 65536) == 196608);
    CHECK(suggest_range_start("a:100000:65536\n", "b:300000:10\n# c:900000:1\nbad\n", 65536) == 327680);
}

TEST_CASE("mapped ids are counted from a uid_map", "[self-check]")
{
    CHECK(count_mapped_ids("         0     131072       1001\n      1001       1001          1\n") == 1002);
    CHECK(count_mapped_ids("") == 0);
}

TEST_CASE("port driver: handoff where available, else relay with the reason, never a failure", "[self-check]")
{
    Facts f = working_machine();
    f.handoff_unavailable = std::nullopt;
    CHECK(item(assess(f), "port-driver").detail.rfind("handoff:", 0) == 0);
    f.handoff_unavailable = "Linux 4.18.0 is older than 5.9, which SECCOMP_IOCTL_NOTIF_ADDFD needs";
    const auto items = assess(f);
    CHECK(item(items, "port-driver").status == Status::Ok);
    CHECK(item(items, "port-driver").detail ==
          "relay (the handoff driver is unavailable: Linux 4.18.0 is older than 5.9, which SECCOMP_IOCTL_NOTIF_ADDFD needs)");
    CHECK(exit_status(items) == 0);
}
