#include "self_check_probe.h"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "child_process.h"
#include "error.h"
#include "guest_network.h"
#include "id_map.h"
#include "jupyterhub.h"
#include "log.h"
#include "subid.h"
#include "tap_device.h"
#include "unique_fd.h"

namespace portwrap::self_check {
namespace {

// How long the test namespace may take to set up tap0 once its maps are written.
constexpr int kProbeTimeoutMs = 20000;

// A whole file, or nullopt with errno set. No stdio: errno must survive.
std::optional<std::string> read_file(const char* path)
{
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd)
        return std::nullopt;
    std::string text;
    char buffer[4096];
    for (;;) {
        ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return std::nullopt;
        if (got == 0 || text.size() > (1u << 20))
            break;
        text.append(buffer, static_cast<size_t>(got));
    }
    return text;
}

Sysctl read_sysctl(const char* path)
{
    auto text = read_file(path);
    if (!text)
        return std::nullopt;
    char* end = nullptr;
    long value = std::strtol(text->c_str(), &end, 10);
    if (end == text->c_str())
        return std::nullopt;
    return value;
}

TunFacts inspect_tun()
{
    TunFacts tun;
    struct stat st{};
    if (::stat("/dev/net/tun", &st) != 0) {
        tun.stat_errno = errno;
        return tun;
    }
    tun.char_device = S_ISCHR(st.st_mode);
    tun.major = major(st.st_rdev);
    tun.minor = minor(st.st_rdev);
    tun.mode = st.st_mode & 07777;
    return tun;
}

// What the test namespace's process reports once it has tried tap0.
struct ProbeReply {
    int32_t failed_at = static_cast<int32_t>(ProbeStep::Network);
    uint32_t uid = 0;
    uint32_t gid = 0;
    char text[480] = {};
};

// In the test namespace: the steps of child.cpp's set_up_network, with the same
// functions, reported instead of handed on. Never returns.
[[noreturn]] void probe_child(int socket, pid_t parent) noexcept
{
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)
        _exit(kExitSetupFailure);
    char go = 0;
    if (::recv(socket, &go, 1, 0) != 1 || go != 'M')
        _exit(kExitSetupFailure);  // the maps could not be written: the parent reports it
    ProbeReply reply;
    reply.uid = static_cast<uint32_t>(::getuid());
    reply.gid = static_cast<uint32_t>(::getgid());
    ProbeStep step = ProbeStep::Tun;
    try {
        UniqueFd tap = open_tap(guest_network::kTapName);
        step = ProbeStep::Network;
        const int ifindex = static_cast<int>(if_nametoindex(guest_network::kTapName));
        if (ifindex == 0)
            throw_errno(std::string("cannot find ") + guest_network::kTapName + " after creating it");
        guest_network::configure(ifindex);
        step = ProbeStep::None;
    } catch (const std::exception& e) {
        std::snprintf(reply.text, sizeof reply.text, "%s", e.what());
    }
    reply.failed_at = static_cast<int32_t>(step);
    ::send(socket, &reply, sizeof reply, MSG_NOSIGNAL);
    _exit(0);
}

// A launch's start-up, in namespaces that are thrown away again: clone into new user
// and network namespaces, write the maps as a launch would (newuidmap/newgidmap or
// the single-id map), then create and configure tap0 inside.
ProbeResult probe_namespaces(const id_map::Plan& plan)
{
    ProbeResult result;
    result.ran = true;
    result.used_helpers = !plan.newuidmap.empty();
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        throw_errno("cannot create socketpair");
    UniqueFd parent_end(fds[0]), child_end(fds[1]);
    const pid_t parent = ::getpid();
    std::fflush(nullptr);
    long pid = ::syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) {
        result.failed_at = ProbeStep::UserNamespace;
        result.clone_errno = errno;
        return result;
    }
    if (pid == 0) {
        parent_end.reset();
        probe_child(child_end.get(), parent);
    }
    ChildProcess child(static_cast<pid_t>(pid));  // killed and reaped on every way out
    child_end.reset();

    try {
        id_map::apply(plan, child.pid());
    } catch (const Error& e) {
        result.failed_at = ProbeStep::IdMap;
        result.error = e.what();
        return result;
    }
    const std::string proc = "/proc/" + std::to_string(pid) + "/";
    result.uids_mapped = count_mapped_ids(read_file((proc + "uid_map").c_str()).value_or(""));
    result.gids_mapped = count_mapped_ids(read_file((proc + "gid_map").c_str()).value_or(""));

    const char go = 'M';
    ProbeReply reply;
    pollfd wait_for{parent_end.get(), POLLIN, 0};
    ssize_t got = -1;
    if (::send(parent_end.get(), &go, 1, MSG_NOSIGNAL) == 1 && ::poll(&wait_for, 1, kProbeTimeoutMs) == 1)
        got = ::recv(parent_end.get(), &reply, sizeof reply, 0);
    if (got != static_cast<ssize_t>(sizeof reply)) {
        result.failed_at = ProbeStep::Network;
        result.error = "the test namespace's set-up process ended early or did not answer";
        return result;
    }
    reply.text[sizeof reply.text - 1] = '\0';
    result.failed_at = static_cast<ProbeStep>(reply.failed_at);
    result.error = reply.text;
    result.uid_inside = reply.uid;
    result.gid_inside = reply.gid;
    child.wait();
    return result;
}

}  // namespace

Facts gather_facts()
{
    Facts facts;
    utsname uts{};
    if (::uname(&uts) == 0) {
        facts.kernel_release = uts.release;
        facts.machine = uts.machine;
    }
    facts.elevated = ::getauxval(AT_SECURE) != 0;
    char exe[4096];
    ssize_t length = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (length > 0)
        facts.exe_path.assign(exe, static_cast<size_t>(length));
    facts.uid = static_cast<uint32_t>(::getuid());
    facts.gid = static_cast<uint32_t>(::getgid());
    // The name as make_plan finds it: /etc/passwd as text, then $USER; never NSS.
    facts.user_name = subid::user_name_from_passwd(read_file("/etc/passwd").value_or(""), facts.uid).value_or("");
    if (facts.user_name.empty())
        if (const char* user = std::getenv("USER"))
            facts.user_name = user;

    facts.max_user_namespaces = read_sysctl("/proc/sys/user/max_user_namespaces");
    facts.unprivileged_userns_clone = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone");
    facts.apparmor_restrict_unprivileged_userns =
        read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");

    facts.subuid_text = read_file("/etc/subuid");
    facts.subuid_errno = facts.subuid_text ? 0 : errno;
    facts.subgid_text = read_file("/etc/subgid");
    facts.subgid_errno = facts.subgid_text ? 0 : errno;
    facts.newuidmap = id_map::find_helper("newuidmap", facts.uid);
    facts.newgidmap = id_map::find_helper("newgidmap", facts.uid);
    facts.tun = inspect_tun();

    // An elevated portwrap refuses to launch; it must not try the steps either.
    if (!facts.elevated)
        facts.probe = probe_namespaces(id_map::make_plan(false));
    return facts;
}

int run()
{
    try {
        const Facts facts = gather_facts();
        std::vector<Item> items = assess(facts);
        // In a JupyterHub spawner's environment: what --jupyterhub would forward.
        if (auto hub = jupyterhub::check_item([](const char* name) { return static_cast<const char*>(::getenv(name)); }))
            items.push_back(*hub);
        std::string out;
        for (const Item& item : items)
            out += format_item(item) + "\n";
        out += summary_line(items, facts) + "\n";
        std::fputs(out.c_str(), stdout);
        if (std::fflush(stdout) != 0)
            return kExitSetupFailure;
        return exit_status(items);
    } catch (const std::exception& e) {
        log::error("--check: %s", e.what());
        return kExitSetupFailure;
    }
}

}  // namespace portwrap::self_check
