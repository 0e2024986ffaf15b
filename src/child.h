// Everything the cloned child does, from clone() to exec: it waits for its id maps,
// creates and configures tap0, hands the TAP fd to the parent, waits for the go-ahead
// and execs the command. It reports every failure over the socket and never returns.
// With a PID namespace it is the namespace's PID 1: it forks the command and stays
// as the init (pid_namespace.h).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "stop_policy.h"
#include <vector>

#include "host_access.h"

namespace portwrap {

struct ChildPlan {
    int socket;            // the child's end of the socketpair
    pid_t parent;          // to detect a parent that died before PR_SET_PDEATHSIG took hold
    char* const* argv;     // the command, NULL-terminated, built before clone()
    sigset_t exec_sigmask; // the signal mask portwrap started with
    int connector_socket;  // the connector's end of its socketpair; -1: no connector
    const char* resolv_conf;  // --dns: the resolv.conf to mount; nullptr: decide from the host's
    bool pid_namespace;    // cloned with CLONE_NEWPID: become the init, fork the command
    StopPolicy stop;       // the init's: whether it forwards signals, its leftover grace
    const std::vector<host_access::GuestListener>* to_host;  // -T: listeners to make and pass
};

[[noreturn]] void run_child(const ChildPlan& plan) noexcept;

}  // namespace portwrap
