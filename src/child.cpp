#include "child.h"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "connector.h"
#include "error.h"
#include "guest_network.h"
#include "guest_port_template.h"
#include "handoff_filter.h"
#include "handshake.h"
#include "host_endpoint.h"
#include "pid_namespace.h"
#include "resolv_conf.h"
#include "tap_device.h"

namespace portwrap {
namespace {

using start::Stage;

// Reports the step that failed to portwrap and exits: the end of every failed step.
// The child never throws into the parent's stack (it is a copy of it).
[[noreturn]] void fail(int socket, Stage stage, int err, const std::string& detail) noexcept
{
    const auto report = handshake::ToParent::failed(stage, err, detail);
    handshake::send_to_parent(socket, report);
    _exit(start::exit_status(start::Failure{stage, err, {}}));
}

// Blocks until the parent says `expected`. Any other answer, or the parent's end
// closing, means the parent has given up: leave quietly, it reports the reason.
void await(int socket, handshake::ToChild expected) noexcept
{
    handshake::ToChild message{};
    if (handshake::receive_from_parent(socket, message) != handshake::Received::Message || message != expected)
        _exit(kExitSetupFailure);
}

// Gives the command a resolv.conf naming libslirp's DNS (10.0.2.3) when the host's
// names only loopback resolvers, which do not exist inside, or the one --dns asked
// for (`wanted`). It is bind-mounted over /etc/resolv.conf in a mount namespace of the
// command's own, so the host's file is never touched; other mounts, autofs included,
// still propagate in. Returns a warning for the user, or "" — DNS trouble must not
// stop the command. Have_mount_namespace: the child has made its own mount namespace
// already (for /proc).
std::string provide_resolv_conf(const char* wanted, bool have_mount_namespace)
{
    using resolv_conf::kPath;
    auto replacement = wanted ? std::optional<std::string>(wanted)
                              : resolv_conf::replacement_for(resolv_conf::read_host(), guest_network::kNameserver);
    if (!replacement)
        return {};
    // A bind mount needs a source on a real mount (a memfd will not do): a private
    // temporary file, unlinked again once it is mounted.
    char source[] = "/tmp/portwrap-resolv.conf.XXXXXX";
    UniqueFd file(::mkostemp(source, O_CLOEXEC));
    if (!file)
        return describe_errno("warning: cannot create a resolv.conf for the namespace in /tmp", errno);
    bool written = ::fchmod(file.get(), 0644) == 0 &&
                   ::write(file.get(), replacement->data(), replacement->size()) ==
                       static_cast<ssize_t>(replacement->size());
    int err = errno;
    bool mounted = written && (have_mount_namespace || ::unshare(CLONE_NEWNS) == 0) &&
                   ::mount(source, kPath, nullptr, MS_BIND, nullptr) == 0;
    if (written)
        err = errno;
    ::unlink(source);
    if (!mounted)
        return describe_errno(std::string("warning: cannot mount a resolv.conf naming ") +
                                  (wanted ? "the --dns servers" : guest_network::kNameserver) + " over " + kPath +
                                  "; name lookups inside may fail",
                              err);
    return {};
}

// The -T listeners: made here, inside the namespace and before the command runs (so
// the port is there from its first instruction), and passed to portwrap, which
// accepts on them and connects to the host. None stays open in the command.
void make_to_host_listeners(const ChildPlan& plan)
{
    for (size_t i = 0; i < plan.to_host->size(); ++i) {
        const host_access::GuestListener& want = (*plan.to_host)[i];
        forward::Spec spec;
        spec.ipv6 = want.addr.find(':') != std::string::npos;
        spec.host_addr = want.addr;
        spec.host_port = want.port;
        const host_endpoint::SocketAddress address = host_endpoint::host_address(spec);
        UniqueFd listener(::socket(address.get()->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        const std::string where = host_access::join(want.addr, want.port);
        if (!listener)
            fail(plan.socket.get(), Stage::ToHostListener, errno,
                 "cannot create a socket for -T " + where + " inside the namespace");
        if (::bind(listener.get(), address.get(), address.length) != 0) {
            // A namespace without IPv6 has no ::1: the IPv4 listener serves alone.
            if (want.optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
                continue;
            fail(plan.socket.get(), Stage::ToHostListener, errno,
                 "cannot listen on " + where + " inside the namespace for -T");
        }
        if (::listen(listener.get(), SOMAXCONN) != 0)
            fail(plan.socket.get(), Stage::ToHostListener, errno,
                 "cannot listen on " + where + " inside the namespace for -T");
        auto message = handshake::ToParent::make(handshake::ToParentKind::Listener);
        message.index = static_cast<int32_t>(i);
        if (!handshake::send_to_parent(plan.socket.get(), message, listener.get()))
            fail(plan.socket.get(), Stage::PassFd, errno, "cannot pass the -T listener " + where + " to portwrap");
    }
}

// The steps from the maps to Ready, each failure reported with its stage. `stage`
// follows along, for a step that reports by throwing (bad_alloc, or Error from a
// module outside, whose errno run_child's catch reports as data).
void set_up_network(ChildPlan& plan, Stage& stage)
{
    stage = Stage::OpenTun;
    TapFailure tap_failure;
    UniqueFd tap = open_tap(guest_network::kTapName, tap_failure);
    if (!tap && tap_failure.at_open)
        fail(plan.socket.get(), Stage::OpenTun, tap_failure.err, std::string("cannot open ") + kTunPath);
    if (!tap)
        fail(plan.socket.get(), Stage::TunSetIff, tap_failure.err,
             std::string("cannot create TAP device ") + guest_network::kTapName + " (TUNSETIFF on " + kTunPath + ")");
    stage = Stage::FindTap;
    const int ifindex = static_cast<int>(if_nametoindex(guest_network::kTapName));
    if (ifindex == 0)
        fail(plan.socket.get(), Stage::FindTap, errno,
             std::string("cannot find ") + guest_network::kTapName + " after creating it");
    stage = Stage::Network;
    std::string failed_step;
    if (int err = guest_network::configure(ifindex, failed_step); err != 0)
        fail(plan.socket.get(), Stage::Network, err, failed_step);
    stage = Stage::MountProc;
    if (plan.pid_namespace)
        pid_namespace::mount_proc();
    stage = Stage::ToHostListener;
    if (plan.to_host)
        make_to_host_listeners(plan);
    // --check's trial stops here: it keeps the host's resolv.conf out of it, and
    // needs no connector or handoff filter.
    auto ready = handshake::ToParent::make(handshake::ToParentKind::Ready,
                                           plan.probe ? "" : provide_resolv_conf(plan.resolv_conf, plan.pid_namespace));
    ready.uid = static_cast<uint32_t>(::getuid());
    ready.gid = static_cast<uint32_t>(::getgid());
    stage = Stage::Connector;
    if (plan.connector_socket) {
        // In a PID namespace the connector is the init's child, which reaps it; its
        // pid means nothing to portwrap (it is the namespace's), so none is sent.
        pid_t connector = connector::spawn(std::move(plan.connector_socket), plan.parent, plan.pid_namespace);
        ready.connector_pid = plan.pid_namespace ? 0 : connector;
    }
    // The handoff filter comes last, once the connector is forked (it must not bind
    // through portwrap, which does not serve notifications yet) and after every bind
    // of the set-up (rtnetlink): from here on, each bind() waits for portwrap.
    stage = Stage::HandoffFilter;
    UniqueFd listener;
    if (plan.handoff_filter) {
        listener.reset(handoff_filter::install(*plan.handoff_filter));
        if (!listener)
            fail(plan.socket.get(), Stage::HandoffFilter, errno,
                 "cannot install the handoff seccomp filter (SECCOMP_FILTER_FLAG_NEW_LISTENER)");
    }
    stage = Stage::PassFd;
    if (!handshake::send_to_parent(plan.socket.get(), ready, tap.get()))
        fail(plan.socket.get(), Stage::PassFd, errno, "cannot pass the TAP fd to portwrap");
    if (listener && !handshake::send_to_parent(
                        plan.socket.get(), handshake::ToParent::make(handshake::ToParentKind::HandoffListener),
                        listener.get()))
        fail(plan.socket.get(), Stage::PassFd, errno, "cannot pass the seccomp listener fd to portwrap");
}

// Whether portwrap died before PR_SET_PDEATHSIG was armed. A child in a new PID
// namespace cannot tell by getppid(), which returns 0 for a parent outside it: then
// portwrap's end of the socket, closed on its death, tells.
bool parent_gone(const ChildPlan& plan) noexcept
{
    if (!plan.pid_namespace)
        return getppid() != plan.parent;
    pollfd socket{plan.socket.get(), POLLRDHUP, 0};
    return ::poll(&socket, 1, 0) != 0;  // hung up, or poll failed
}

// Adds the Go message's "NAME=VALUE\0..." entries to the environment, and returns
// the command with the host side's placeholders expanded, as execvp wants it.
std::vector<std::string> apply_go_payload(const ChildPlan& plan, const std::string& payload)
{
    std::string host_side;
    for (size_t from = 0; from < payload.size();) {
        size_t end = payload.find('\0', from);
        if (end == std::string::npos)
            end = payload.size();
        const std::string entry = payload.substr(from, end - from);
        from = end + 1;
        const size_t eq = entry.find('=');
        if (eq == std::string::npos) {
            ::unsetenv(entry.c_str());
            continue;
        }
        const std::string name = entry.substr(0, eq), value = entry.substr(eq + 1);
        ::setenv(name.c_str(), value.c_str(), 1);
        if (name == kHostSideVariable)
            host_side = value;
    }
    std::vector<std::string> command;
    for (char* const* arg = plan.argv; *arg; ++arg)
        command.emplace_back(*arg);
    return expand_host_side(command, host_side);
}

[[noreturn]] void exec_command(const ChildPlan& plan, const std::string& go_payload) noexcept
{
    std::vector<std::string> expanded;
    try {
        expanded = apply_go_payload(plan, go_payload);
    } catch (const std::exception& e) {
        fail(plan.socket.get(), Stage::PrepareCommand, 0, std::string("cannot prepare the command: ") + e.what());
    }
    std::vector<char*> argv;
    for (std::string& arg : expanded)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    sigprocmask(SIG_SETMASK, &plan.exec_sigmask, nullptr);
    execvp(argv[0], argv.data());
    // Still here: exec failed. The socket is close-on-exec, so on success the parent
    // sees end-of-file instead of this message.
    const int err = errno;
    const char* command = plan.argv[0];
    const std::string what = std::string("cannot run '") + command + "'";
    if (err == ENOENT && std::strchr(command, '/') == nullptr)
        fail(plan.socket.get(), Stage::CommandNotFound, err, what);  // no such command in PATH
    fail(plan.socket.get(), Stage::Exec, err, what);
}

}  // namespace

void run_child(ChildPlan plan) noexcept
{
    // Die with portwrap, even when it is SIGKILLed. The signal is armed only now, so a
    // parent that died before this line is caught by the check after it.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || parent_gone(plan))
        _exit(kExitSetupFailure);

    await(plan.socket.get(), handshake::ToChild::MapsWritten);
    Stage stage = Stage::OpenTun;
    try {
        set_up_network(plan, stage);
    } catch (const Error& e) {
        const start::Failure failure = start::failure_from(stage, e);  // its errno, for the hint
        fail(plan.socket.get(), stage, failure.err, failure.detail);
    } catch (const std::exception& e) {
        fail(plan.socket.get(), stage, 0, e.what());  // bad_alloc: no errno
    }
    std::string go_payload;
    {
        handshake::ToChild message{};
        if (handshake::receive_from_parent(plan.socket.get(), message, &go_payload) != handshake::Received::Message ||
            message != handshake::ToChild::Go)
            _exit(kExitSetupFailure);
    }

    if (plan.pid_namespace) {
        // PID 1 would not die of SIGTERM or SIGINT without a handler, so the command
        // runs as a child of this process, which stays as its init. The command's copy of the
        // socket reports a failed exec, or closes on a successful one; the init closes
        // its own, so portwrap still sees end-of-file once the exec succeeded.
        // This process becomes the init, which the command (same user; with
        // --map-root, every capability of the namespace) must not ptrace. Only now:
        // portwrap had to write its /proc/PID/uid_map, which non-dumpable would have
        // made root's. The command's exec makes the command itself dumpable again.
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        const sigset_t early = pid_namespace::take_pending_signals();
        const pid_t command = ::fork();
        if (command < 0)
            fail(plan.socket.get(), Stage::ForkCommand, errno, "cannot fork the command in the PID namespace");
        if (command > 0)
            pid_namespace::run_init(command, plan.stop);
        pid_namespace::raise_in_command(early);
    }
    exec_command(plan, go_payload);
}

}  // namespace portwrap
