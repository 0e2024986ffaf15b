// The parent side of start-up: clone the child into new user and network namespaces,
// write its id maps, receive the TAP fd, and later give it the go-ahead to exec.
// --check runs the same start-up as a trial (Launcher::Probe) and never sends Go.
#pragma once

#include <linux/filter.h>
#include <signal.h>

#include <optional>
#include <string>
#include <vector>

#include "child_process.h"
#include "host_access.h"
#include "id_map.h"
#include "stop_policy.h"
#include "unique_fd.h"

namespace portwrap {

class Launcher {
public:
    // Clones the child and completes the handshake up to the TAP fd. Throws
    // start::StartError (an Error: the user's line, with the hint for its stage and
    // errno) when any step fails; the child is then killed and reaped.
    // With_connector: also start the connector in the namespace (relay port driver).
    // Pid_namespace (--pid-ns): the child is also the init of a new PID namespace,
    // and child() is that init, which runs the command as its own child.
    // resolv_conf: the text --dns asks for as the command's /etc/resolv.conf.
    // stop: what the --pid-ns init forwards and how long it gives leftovers.
    // to_host: the -T listeners the child makes inside the namespace and passes back.
    // handoff_filter: the handoff driver's filter, to install in the child; its
    // listener fd is then take_handoff_listener()'s.
    Launcher(const std::vector<std::string>& command, const id_map::Plan& ids, const sigset_t& exec_sigmask,
             bool with_connector, bool pid_namespace, const std::optional<std::string>& resolv_conf = std::nullopt,
             const StopPolicy& stop = {}, const std::vector<host_access::GuestListener>& to_host = {},
             const std::vector<sock_filter>* handoff_filter = nullptr);

    // --check's trial: the same start-up, with no command, connector, -T listeners,
    // handoff filter or resolv.conf, up to Ready. The child waits for a Go that never
    // comes; the destructor kills and reaps it. Throws start::StartError.
    struct Probe {};
    Launcher(Probe, const id_map::Plan& ids);

    UniqueFd take_tap() noexcept { return std::move(tap_); }
    UniqueFd take_handoff_listener() noexcept { return std::move(handoff_listener_); }
    UniqueFd take_connector_socket() noexcept { return std::move(connector_socket_); }
    // The connector's pid if it is portwrap's child (relay driver, no PID namespace), else 0.
    pid_t connector_pid() const noexcept { return connector_pid_; }
    ChildProcess& child() noexcept { return *child_; }
    // The child's uid and gid inside its user namespace, as it reported them in Ready.
    uint32_t uid_inside() const noexcept { return uid_inside_; }
    uint32_t gid_inside() const noexcept { return gid_inside_; }
    // The -T listeners the child made, each with its index in `to_host` (a listener
    // the namespace could not have, ::1 without IPv6, is missing).
    struct ToHostListener {
        size_t index;
        UniqueFd fd;
    };
    std::vector<ToHostListener> take_to_host_listeners() noexcept { return std::move(to_host_); }

    // Lets the child exec the command and waits for the outcome: returns normally once
    // exec succeeded; throws start::StartError (exit status 126 or 127) if it failed. `environment`
    // (handshake::send_go) goes into the command's environment, and its PORTWRAP_HOST
    // into the command's {host} and {host-port}.
    void start_command(const std::string& environment = "");

private:
    Launcher(const std::vector<std::string>& command, const id_map::Plan& ids, const sigset_t& exec_sigmask,
             bool with_connector, bool pid_namespace, const std::optional<std::string>& resolv_conf,
             const StopPolicy& stop, const std::vector<host_access::GuestListener>& to_host,
             const std::vector<sock_filter>* handoff_filter, bool probe);

    UniqueFd socket_;
    std::optional<ChildProcess> child_;  // set once clone() succeeded
    UniqueFd tap_;
    UniqueFd handoff_listener_;
    UniqueFd connector_socket_;
    pid_t connector_pid_ = 0;
    uint32_t uid_inside_ = 0;
    uint32_t gid_inside_ = 0;
    std::vector<ToHostListener> to_host_;
};

}  // namespace portwrap
