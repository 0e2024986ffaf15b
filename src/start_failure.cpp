#include "start_failure.h"

#include <cerrno>

namespace portwrap::start {
namespace {

constexpr const char* kMakeTun = "mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun";

// A step inside the namespace refused for want of capabilities there: the user
// namespace was created, but something took its capabilities away.
std::string no_capabilities()
{
    return "the namespace has no capabilities: kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu), another "
           "security module or a container denies them; allow user namespaces with capabilities for portwrap "
           "(docs/troubleshooting.md, 'Enabling user namespaces')";
}

// A limit of the user's that a step ran into (a fork, a pipe, a socket), else "".
std::string resource_limit(int err)
{
    switch (err) {
    case EAGAIN:
        return "the user's process limit is reached: raise ulimit -u, or end some processes";
    case EMFILE:
        return "portwrap ran out of file descriptors: raise ulimit -n";
    case ENFILE:
        return "the system's file table is full (fs.file-max): end some processes, or as root raise fs.file-max";
    case ENOMEM:
        return "out of memory (or the user's ulimit -v): free memory, or raise the limit";
    default:
        return {};
    }
}

}  // namespace

Failure failure_from(Stage stage, const Error& error)
{
    return {stage, error.errno_value(), error.errno_value() != 0 ? error.context() : std::string(error.what())};
}

bool known_stage(uint32_t value) noexcept
{
    return value <= kLastStage;
}

std::string hint(Stage stage, int err)
{
    switch (stage) {
    case Stage::Clone:
        switch (err) {
        case ENOSPC:
            return "the user has reached user.max_user_namespaces, or it is 0, here or in an enclosing user "
                   "namespace (a container): as root: sysctl -w user.max_user_namespaces=15000 (keep it in "
                   "/etc/sysctl.d/)";
        case EPERM:
        case EACCES:
            return "user namespaces are denied here: kernel.unprivileged_userns_clone=0 (Debian: as root, sysctl "
                   "-w kernel.unprivileged_userns_clone=1), an AppArmor profile, a container's seccomp policy or a "
                   "chroot; allow them there, or run portwrap on the host";
        case EUSERS:
            return "user namespaces are nested too deeply (32 levels): run portwrap from an outer namespace";
        case EINVAL:
            return "the kernel lacks user or network namespaces (CONFIG_USER_NS, CONFIG_NET_NS): use a kernel "
                   "that has them";
        default:
            return "see docs/troubleshooting.md, 'Creating the namespace'";
        }
    case Stage::IdMap:
        // 0: newuidmap or newgidmap refused, in its own words. An errno: portwrap's own
        // single-id map (no usable subordinate ids or helpers), or starting a helper.
        switch (err) {
        case 0:
            return "the map was refused: newuidmap and newgidmap look up the user's ranges in /etc/subuid and "
                   "/etc/subgid by name and must be setuid root; portwrap --check shows what is wrong "
                   "(docs/troubleshooting.md, 'Id maps')";
        case EPERM:
            return "the kernel refused the map: portwrap's real and effective ids differ (installed setuid?) or a "
                   "security module denies it; run portwrap as a normal program (docs/troubleshooting.md, 'Id maps')";
        case EACCES:
            return "/proc/PID is not writable by portwrap (a read-only or restricted /proc, as in some containers), "
                   "or newuidmap/newgidmap is on a noexec mount (docs/troubleshooting.md, 'Id maps')";
        case ENOENT:
            return "newuidmap or newgidmap went away after portwrap found it (reinstall it, e.g. apt-get install "
                   "--reinstall uidmap), or /proc is not mounted";
        default:
            if (std::string limit = resource_limit(err); !limit.empty())
                return limit;
            return "see docs/troubleshooting.md, 'Id maps'";
        }
    case Stage::OpenTun:
        switch (err) {
        case ENOENT:
            return "as root: modprobe tun; if it is still missing: " + std::string(kMakeTun);
        case ENXIO:
        case ENODEV:
            return "the tun driver is not loaded: as root: modprobe tun";
        case EACCES:
            return "as root: chmod 0666 /dev/net/tun";
        case EPERM:
            return "as root: chmod 0666 /dev/net/tun; in a container, also pass the device in (e.g. docker run "
                   "--device /dev/net/tun)";
        default:
            return "see docs/troubleshooting.md, 'Network set-up inside the namespace'";
        }
    case Stage::TunSetIff:
        if (err == EPERM || err == EACCES)
            return no_capabilities();
        return "/dev/net/tun is not the tun device (character device 10,200): as root: rm /dev/net/tun && " +
               std::string(kMakeTun);
    case Stage::MountProc:
        // unshare(CLONE_NEWNS), then mount("proc").
        if (err == EPERM || err == EACCES)
            return "the kernel refused a new /proc here: a container that masks parts of /proc (such as "
                   "/proc/kcore) lets no user namespace mount one, or a security module denies it; run without "
                   "--pid-ns";
        if (err == ENOSPC)
            return "user.max_mnt_namespaces is 0 or reached: as root: sysctl -w user.max_mnt_namespaces=15000, or "
                   "run without --pid-ns";
        return "run without --pid-ns (docs/troubleshooting.md, 'Network set-up inside the namespace')";
    case Stage::FindTap:
    case Stage::Network:
        if (err == EPERM || err == EACCES)
            return no_capabilities();
        return "see docs/troubleshooting.md, 'Network set-up inside the namespace'";
    case Stage::HandoffFilter:
        return "use --port-driver=relay";
    case Stage::Connector:
    case Stage::ForkCommand:
        return resource_limit(err);
    case Stage::None:
    case Stage::ToHostListener:
    case Stage::PassFd:
    case Stage::PrepareCommand:
    case Stage::Exec:
    case Stage::CommandNotFound:
    case Stage::Handshake:
        return {};
    }
    return {};
}

std::string message(const Failure& failure)
{
    if (failure.stage == Stage::CommandNotFound)
        return failure.detail + ": command not found";
    if (failure.err == 0)
        return failure.detail;
    return describe_errno(failure.detail, failure.err);
}

std::string user_line(const Failure& failure)
{
    const std::string what = hint(failure.stage, failure.err);
    return what.empty() ? message(failure) : message(failure) + " (" + what + ")";
}

int exit_status(const Failure& failure) noexcept
{
    if (failure.stage == Stage::CommandNotFound || (failure.stage == Stage::Exec && failure.err == ENOENT))
        return kExitNotFound;
    if (failure.stage == Stage::Exec)
        return kExitCannotExecute;
    return kExitSetupFailure;
}

const char* stage_name(Stage stage) noexcept
{
    switch (stage) {
    case Stage::None: return "None";
    case Stage::Clone: return "Clone";
    case Stage::IdMap: return "IdMap";
    case Stage::OpenTun: return "OpenTun";
    case Stage::TunSetIff: return "TunSetIff";
    case Stage::FindTap: return "FindTap";
    case Stage::Network: return "Network";
    case Stage::MountProc: return "MountProc";
    case Stage::ToHostListener: return "ToHostListener";
    case Stage::Connector: return "Connector";
    case Stage::HandoffFilter: return "HandoffFilter";
    case Stage::PassFd: return "PassFd";
    case Stage::PrepareCommand: return "PrepareCommand";
    case Stage::ForkCommand: return "ForkCommand";
    case Stage::Exec: return "Exec";
    case Stage::CommandNotFound: return "CommandNotFound";
    case Stage::Handshake: return "Handshake";
    }
    return "unknown";
}

}  // namespace portwrap::start
