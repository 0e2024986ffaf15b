#include "launcher.h"

#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "child.h"
#include "error.h"
#include "exit_status.h"
#include "fd_pair.h"
#include "guest_network.h"
#include "handshake.h"
#include "log.h"
#include "start_failure.h"

namespace portwrap {
namespace {

// The start-up socket (and the connector's): SEQPACKET keeps message boundaries, and
// the close-on-exec child end turns a successful exec into end-of-file for the parent.
// `first` stays with portwrap, `second` goes to the child.
SocketPair make_start_up_sockets()
{
    SocketPair pair = make_socket_pair(SOCK_SEQPACKET | SOCK_CLOEXEC);
    if (!pair)
        throw_errno("cannot create socketpair");
    return pair;
}

using start::Stage;
using start::StartError;

sigset_t current_sigmask() noexcept
{
    sigset_t mask;
    sigemptyset(&mask);
    ::sigprocmask(SIG_SETMASK, nullptr, &mask);
    return mask;
}

pid_t clone_into_namespaces(bool pid_namespace)
{
    // A fork-like raw clone (no new stack): glibc's clone() wrapper needs one, and
    // clone3 is missing on the kernels HPC sites still run.
    const unsigned long flags = CLONE_NEWUSER | CLONE_NEWNET | (pid_namespace ? CLONE_NEWPID : 0) | SIGCHLD;
    long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) {
        const int err = errno;
        throw StartError(
            {Stage::Clone, err,
             pid_namespace ? "cannot create user namespace (clone with CLONE_NEWUSER|CLONE_NEWNET|CLONE_NEWPID)"
                           : "cannot create user namespace (clone with CLONE_NEWUSER|CLONE_NEWNET)"});
    }
    return static_cast<pid_t>(pid);
}

// What the child reported when it gave up, or how it died if it said nothing.
[[noreturn]] void report_child_failure(handshake::Received received, const handshake::ToParent& message,
                                       ChildProcess& child)
{
    if (received == handshake::Received::Message && message.kind == handshake::ToParentKind::Failed) {
        if (message.stage == Stage::Exec || message.stage == Stage::CommandNotFound)
            child.wait();
        throw StartError(message.failure());
    }
    if (received == handshake::Received::Error) {
        const int err = errno;
        throw StartError({Stage::Handshake, err, "cannot read the namespace set-up process's report"});
    }
    if (received == handshake::Received::Message)
        throw StartError({Stage::Handshake, 0, "the namespace set-up process sent an unexpected report"});
    int status = child.wait();
    throw StartError({Stage::Handshake, 0,
                      "the namespace set-up process ended early (status " +
                          std::to_string(exit_status_from_wait(status)) + ")"});
}

}  // namespace

Launcher::Launcher(const std::vector<std::string>& command, const id_map::Plan& ids, const sigset_t& exec_sigmask,
                   bool with_connector, bool pid_namespace, const std::optional<std::string>& resolv_conf,
                   const StopPolicy& stop, const std::vector<host_access::GuestListener>& to_host,
                   const std::vector<sock_filter>* handoff_filter)
    : Launcher(command, ids, exec_sigmask, with_connector, pid_namespace, resolv_conf, stop, to_host, handoff_filter,
               false)
{
}

Launcher::Launcher(Probe, const id_map::Plan& ids)
    : Launcher({}, ids, current_sigmask(), false, false, std::nullopt, {}, {}, nullptr, true)
{
}

Launcher::Launcher(const std::vector<std::string>& command, const id_map::Plan& ids, const sigset_t& exec_sigmask,
                   bool with_connector, bool pid_namespace, const std::optional<std::string>& resolv_conf,
                   const StopPolicy& stop, const std::vector<host_access::GuestListener>& to_host,
                   const std::vector<sock_filter>* handoff_filter, bool probe)
{
    std::vector<char*> argv;
    for (const std::string& arg : command)
        argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    SocketPair sockets = make_start_up_sockets();
    SocketPair connector_sockets;
    if (with_connector)
        connector_sockets = make_start_up_sockets();
    const pid_t parent = ::getpid();
    std::fflush(nullptr);  // nothing buffered may be written twice
    const pid_t pid = clone_into_namespaces(pid_namespace);
    if (pid == 0) {
        sockets.first.reset();
        connector_sockets.first.reset();
        run_child(ChildPlan{std::move(sockets.second), parent, argv.data(), exec_sigmask,
                            std::move(connector_sockets.second),
                            resolv_conf ? resolv_conf->c_str() : nullptr, pid_namespace, stop,
                            to_host.empty() ? nullptr : &to_host, handoff_filter, probe});
    }
    child_.emplace(pid);
    sockets.second.reset();
    connector_sockets.second.reset();
    socket_ = std::move(sockets.first);
    connector_socket_ = std::move(connector_sockets.first);
    if (pid_namespace)
        log::info("started pid %d in new user, network and PID namespaces (it is their init)", pid);
    else
        log::info("started pid %d in new user and network namespaces", pid);

    try {
        id_map::apply(ids, pid);
    } catch (const Error& e) {
        // A helper's refusal comes in its own words (errno 0); portwrap's own map
        // writes, and starting a helper, keep their errno for the hint.
        throw StartError(start::failure_from(Stage::IdMap, e));
    }
    if (!handshake::send_to_child(socket_.get(), handshake::ToChild::MapsWritten))
        throw_errno("cannot signal the namespace set-up process");

    handshake::ToParent message;
    auto received = handshake::receive_from_child(socket_.get(), message, tap_);
    // The -T listeners come first, one message each.
    while (received == handshake::Received::Message && message.kind == handshake::ToParentKind::Listener) {
        if (!tap_ || message.index < 0 || static_cast<size_t>(message.index) >= to_host.size())
            throw StartError({Stage::Handshake, 0, "the namespace set-up process passed an unexpected listener"});
        to_host_.push_back({static_cast<size_t>(message.index), std::move(tap_)});
        received = handshake::receive_from_child(socket_.get(), message, tap_);
    }
    if (received != handshake::Received::Message || message.kind != handshake::ToParentKind::Ready || !tap_)
        report_child_failure(received, message, *child_);
    connector_pid_ = message.connector_pid;
    uid_inside_ = message.uid;
    gid_inside_ = message.gid;
    if (handoff_filter) {
        handshake::ToParent second;
        received = handshake::receive_from_child(socket_.get(), second, handoff_listener_);
        if (received != handshake::Received::Message || second.kind != handshake::ToParentKind::HandoffListener ||
            !handoff_listener_)
            report_child_failure(received, second, *child_);
    }
    if (message.detail[0] != '\0')
        log::error("%s", message.detail);  // a warning from the set-up: not fatal
    // In a PID namespace the init reaps the connector, and no pid is sent (child.cpp).
    if (with_connector && !pid_namespace && connector_pid_ <= 0)
        throw Error("the namespace set-up process started no connector");
    log::info("%s is up in the namespace: %s/%u, default route via %s", guest_network::kTapName,
              guest_network::kGuestAddress, unsigned{guest_network::kPrefixLength}, guest_network::kGateway);
}

void Launcher::start_command(const std::string& environment)
{
    if (!handshake::send_go(socket_.get(), environment))
        throw_errno("cannot signal the namespace set-up process");
    handshake::ToParent message;
    UniqueFd unexpected_fd;
    auto received = handshake::receive_from_child(socket_.get(), message, unexpected_fd);
    socket_.reset();
    if (received == handshake::Received::EndOfFile)
        return;  // exec succeeded: the close-on-exec socket closed
    report_child_failure(received, message, *child_);
}

}  // namespace portwrap
