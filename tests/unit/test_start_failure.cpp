#include <cerrno>
#include <cstring>

#include "catch.h"
#include "start_failure.h"

using namespace portwrap;
using namespace portwrap::start;

namespace {
bool has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("creating the user namespace: each errno gets its own cause", "[start-failure]")
{
    // user.max_user_namespaces=0, here or in an enclosing namespace: ENOSPC.
    CHECK(has(hint(Stage::Clone, ENOSPC), "sysctl -w user.max_user_namespaces="));
    // kernel.unprivileged_userns_clone=0 (Debian) and security modules: EPERM, EACCES.
    CHECK(has(hint(Stage::Clone, EPERM), "kernel.unprivileged_userns_clone=1"));
    CHECK(hint(Stage::Clone, EACCES) == hint(Stage::Clone, EPERM));
    CHECK(has(hint(Stage::Clone, EUSERS), "nested too deeply"));
    CHECK(has(hint(Stage::Clone, EINVAL), "CONFIG_USER_NS"));
    // A kernel without the system call, or anything else: the troubleshooting page.
    CHECK(has(hint(Stage::Clone, ENOSYS), "'Creating the namespace'"));
    CHECK(hint(Stage::Clone, ENOSPC) != hint(Stage::Clone, EPERM));
}

TEST_CASE("/dev/net/tun: missing, not accessible, not the tun device, no capabilities", "[start-failure]")
{
    CHECK(has(hint(Stage::OpenTun, ENOENT), "modprobe tun"));
    CHECK(has(hint(Stage::OpenTun, ENOENT), "mknod /dev/net/tun c 10 200"));
    CHECK(hint(Stage::OpenTun, EACCES) == "as root: chmod 0666 /dev/net/tun");
    CHECK(has(hint(Stage::OpenTun, EPERM), "--device /dev/net/tun"));
    CHECK(has(hint(Stage::OpenTun, ENODEV), "modprobe tun"));
    // TUNSETIFF refused: the namespace lacks CAP_NET_ADMIN (AppArmor's restriction).
    CHECK(has(hint(Stage::TunSetIff, EPERM), "no capabilities"));
    CHECK(has(hint(Stage::TunSetIff, EPERM), "kernel.apparmor_restrict_unprivileged_userns"));
    // TUNSETIFF on something else (a 1,3 node): ENOTTY, EINVAL, EBADFD.
    for (int err : {ENOTTY, EINVAL, EBADFD})
        CHECK(has(hint(Stage::TunSetIff, err), "rm /dev/net/tun && mkdir -p /dev/net && mknod /dev/net/tun c 10 200"));
}

TEST_CASE("the network inside: EPERM is missing capabilities, the rest the troubleshooting page", "[start-failure]")
{
    for (Stage stage : {Stage::FindTap, Stage::Network}) {
        CAPTURE(stage_name(stage));
        CHECK(hint(stage, EPERM) == hint(Stage::TunSetIff, EPERM));
        CHECK(has(hint(stage, ENOSYS), "'Network set-up inside the namespace'"));
    }
    // --pid-ns's /proc: EPERM there is mostly a container's masked /proc, not
    // missing capabilities (its errno arrives since the child keeps Error's).
    CHECK(has(hint(Stage::MountProc, EPERM), "masks parts of /proc"));
    CHECK(has(hint(Stage::MountProc, ENOSPC), "user.max_mnt_namespaces"));
    for (int err : {EPERM, ENOSPC, EINVAL})
        CHECK(has(hint(Stage::MountProc, err), "without --pid-ns"));
}

TEST_CASE("the id maps: one hint for whatever the helpers said, one per errno of portwrap's own steps",
          "[start-failure]")
{
    // newuidmap/newgidmap report in words, not an errno: the detail carries them.
    CHECK(has(hint(Stage::IdMap, 0), "/etc/subuid"));
    CHECK(has(hint(Stage::IdMap, 0), "setuid root"));
    CHECK(has(hint(Stage::IdMap, 0), "portwrap --check"));
    const Failure refused{Stage::IdMap, 0,
                          "/usr/bin/newuidmap failed (exit status 1): newuidmap: uid range [0-65536) -> "
                          "[100000-165536) not allowed"};
    CHECK(message(refused) == refused.detail);
    CHECK(user_line(refused) == refused.detail + " (" + hint(Stage::IdMap, 0) + ")");
    CHECK(exit_status(refused) == kExitSetupFailure);

    // portwrap's own single-id map (no subordinate ids, or no usable helpers) and
    // starting a helper fail with an errno, and the hint follows it.
    CHECK(has(hint(Stage::IdMap, EPERM), "real and effective ids differ"));
    CHECK(has(hint(Stage::IdMap, EACCES), "/proc"));
    CHECK(has(hint(Stage::IdMap, EACCES), "noexec"));
    CHECK(has(hint(Stage::IdMap, ENOENT), "reinstall"));
    CHECK(has(hint(Stage::IdMap, EMFILE), "ulimit -n"));
    CHECK(has(hint(Stage::IdMap, EAGAIN), "ulimit -u"));
    CHECK(has(hint(Stage::IdMap, EIO), "'Id maps'"));
    for (int err : {EPERM, EACCES, ENOENT, EMFILE, EIO}) {
        CAPTURE(err);
        CHECK(hint(Stage::IdMap, err) != hint(Stage::IdMap, 0));  // not the helpers' hint
    }
}

TEST_CASE("a step that threw Error: its errno is data, named once in the message", "[start-failure]")
{
    // As the launcher and the child turn a thrown Error into a report.
    const Failure wrote =
        failure_from(Stage::IdMap, Error::from_errno("cannot write '0 1000 1' to /proc/42/uid_map", EPERM));
    CHECK(wrote.stage == Stage::IdMap);
    CHECK(wrote.err == EPERM);
    CHECK(message(wrote) == std::string("cannot write '0 1000 1' to /proc/42/uid_map: ") + std::strerror(EPERM));
    CHECK(user_line(wrote) == message(wrote) + " (" + hint(Stage::IdMap, EPERM) + ")");
    // A helper's refusal has no errno: its words are the whole detail.
    const Failure helper = failure_from(Stage::IdMap, Error("/usr/bin/newuidmap failed (exit status 1): no"));
    CHECK(helper.err == 0);
    CHECK(message(helper) == "/usr/bin/newuidmap failed (exit status 1): no");
    // --pid-ns's /proc, the connector: the errno reaches the hint.
    const Failure proc = failure_from(Stage::MountProc, Error::from_errno("cannot mount /proc", EPERM));
    CHECK(user_line(proc) == std::string("cannot mount /proc: ") + std::strerror(EPERM) + " (" +
                                 hint(Stage::MountProc, EPERM) + ")");
    const Failure connector = failure_from(Stage::Connector, Error::from_errno("cannot fork the connector", EAGAIN));
    CHECK(message(connector) == std::string("cannot fork the connector: ") + std::strerror(EAGAIN));
    CHECK(has(user_line(connector), "ulimit -u"));
    CHECK(has(hint(Stage::ForkCommand, EAGAIN), "ulimit -u"));
    CHECK(hint(Stage::Connector, EIO).empty());  // nothing better than the message
}

TEST_CASE("the exec: command not found is 127, other exec failures 126", "[start-failure]")
{
    const Failure missing{Stage::CommandNotFound, ENOENT, "cannot run 'nosuchcmd'"};
    CHECK(message(missing) == "cannot run 'nosuchcmd': command not found");
    CHECK(user_line(missing) == message(missing));  // no hint
    CHECK(exit_status(missing) == kExitNotFound);
    const Failure no_file{Stage::Exec, ENOENT, "cannot run './x'"};
    CHECK(message(no_file) == std::string("cannot run './x': ") + std::strerror(ENOENT));
    CHECK(exit_status(no_file) == kExitNotFound);
    const Failure denied{Stage::Exec, EACCES, "cannot run './x'"};
    CHECK(exit_status(denied) == kExitCannotExecute);
}

TEST_CASE("the user's line: message, errno text, hint in brackets; StartError keeps the data", "[start-failure]")
{
    const Failure tun{Stage::OpenTun, ENOENT, "cannot open /dev/net/tun"};
    CHECK(user_line(tun) == std::string("cannot open /dev/net/tun: ") + std::strerror(ENOENT) + " (" +
                                hint(Stage::OpenTun, ENOENT) + ")");
    const Failure said{Stage::Connector, 0, "cannot start the connector process in the namespace"};
    CHECK(message(said) == said.detail);  // errno 0: the detail says it all
    try {
        throw StartError(tun);
    } catch (const Error& e) {  // main() sees an Error like any other
        CHECK(std::string(e.what()) == user_line(tun));
        CHECK(e.exit_status() == kExitSetupFailure);
        const auto* start = dynamic_cast<const StartError*>(&e);
        REQUIRE(start != nullptr);
        CHECK(start->failure().stage == Stage::OpenTun);
        CHECK(start->failure().err == ENOENT);
    }
}

TEST_CASE("every stage has a name, and only stages are known", "[start-failure]")
{
    for (uint32_t value = 0; value <= kLastStage; ++value) {
        CHECK(known_stage(value));
        CHECK(std::string(stage_name(static_cast<Stage>(value))) != "unknown");
        (void)hint(static_cast<Stage>(value), EPERM);  // defined for every stage
    }
    CHECK_FALSE(known_stage(kLastStage + 1));
    CHECK_FALSE(known_stage(0xFFFFFFFFu));
}
