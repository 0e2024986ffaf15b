// Everything the cloned child does, from clone() to exec: it waits for its id maps,
// creates and configures tap0, hands the TAP fd to the parent, waits for the go-ahead
// and execs the command. It reports every failure over the socket as {stage, errno,
// detail} (start_failure.h) and never returns: no exception leaves it. --check runs
// the same steps as a trial (`probe`), and portwrap never sends it Go.
// With a PID namespace it is the namespace's PID 1: it forks the command and stays
// as the init (pid_namespace.h).
#pragma once

#include <signal.h>
#include <linux/filter.h>
#include <sys/types.h>

#include <vector>

#include "host_access.h"
#include "stop_policy.h"
#include "unique_fd.h"

namespace portwrap {

struct ChildPlan {
    // The fds are the child's own: it runs on a fork-like copy of portwrap's memory, so
    // they are moved into the plan there, and close at exec (close-on-exec) or _exit.
    UniqueFd socket;       // the child's end of the start-up socketpair
    pid_t parent;          // to detect a parent that died before PR_SET_PDEATHSIG took hold
    char* const* argv;     // the command, NULL-terminated, built before clone()
    sigset_t exec_sigmask; // the signal mask portwrap started with
    UniqueFd connector_socket;  // the connector's end of its socketpair; invalid: no connector
    const char* resolv_conf;  // --dns: the resolv.conf to mount; nullptr: decide from the host's
    bool pid_namespace;    // cloned with CLONE_NEWPID: become the init, fork the command
    StopPolicy stop;       // the init's: whether it forwards signals, its leftover grace
    const std::vector<host_access::GuestListener>* to_host;  // -T: listeners to make and pass
    // The handoff driver's filter (handoff_filter.h), built before clone(); nullptr: none.
    const std::vector<sock_filter>* handoff_filter = nullptr;
    // --check's trial: leaves the resolv.conf alone; the rest is the launch's.
    bool probe = false;
};

[[noreturn]] void run_child(ChildPlan plan) noexcept;

}  // namespace portwrap
