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

}  // namespace

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
        return "the map was refused: newuidmap and newgidmap look up the user's ranges in /etc/subuid and "
               "/etc/subgid by name and must be setuid root; portwrap --check shows what is wrong "
               "(docs/troubleshooting.md, 'Id maps')";
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
    case Stage::FindTap:
    case Stage::Network:
    case Stage::MountProc:
        if (err == EPERM || err == EACCES)
            return no_capabilities();
        return "see docs/troubleshooting.md, 'Network set-up inside the namespace'";
    case Stage::HandoffFilter:
        return "use --port-driver=relay";
    case Stage::None:
    case Stage::ToHostListener:
    case Stage::Connector:
    case Stage::PassFd:
    case Stage::PrepareCommand:
    case Stage::ForkCommand:
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
