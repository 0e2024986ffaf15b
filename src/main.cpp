// portwrap: run a command in its own user and network namespace, with one host TCP
// port forwarded in by an in-process libslirp. main() wires the stages together and
// turns any failure into one line on stderr and an exit status.
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli.h"
#include "error.h"
#include "event_loop.h"
#include "exit_status.h"
#include "guest_port_template.h"
#include "id_map.h"
#include "launcher.h"
#include "log.h"
#include "namespace_processes.h"
#include "relay.h"
#include "sandbox.h"
#include "signals.h"
#include "slirp_session.h"

namespace {

using namespace portwrap;

// How long processes the command left behind get between SIGTERM and SIGKILL.
constexpr int kLeftoverGraceMs = 2000;

// portwrap is built to run with the user's own privileges. Installed setuid, setgid
// or with file capabilities it would create namespaces and write id maps with powers
// the user does not have; refuse instead of guessing what is safe.
void refuse_elevated_privileges()
{
    if (::getauxval(AT_SECURE) != 0)
        throw Error("refusing to run with elevated privileges (setuid, setgid or file capabilities): "
                    "install portwrap as a plain executable (chmod 0755, no setcap)");
}

// Each relayed connection holds six fds (two sockets, two pipes). The usual soft
// limit of 1024 would cap the relay near 170 connections, so portwrap raises its own
// soft limit to the hard one — after clone(), so the command keeps the user's limits.
void raise_fd_limit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) == 0)
            log::info("raised the open-file limit to %llu", static_cast<unsigned long long>(limit.rlim_cur));
    }
}

int run(const cli::Options& options)
{
    refuse_elevated_privileges();
    log::set_verbose(options.verbose);
    log::install_glib_handler();
    const std::vector<std::string> command = expand_guest_port(options.command, options.guest_port);
    const id_map::Plan ids = id_map::make_plan(options.map_root);

    // Block the handled signals before clone(): none may be lost between clone() and
    // the event loop, and the child inherits the block until it restores the mask.
    const sigset_t original_mask = signals::block_handled();
    // Orphans of the command become portwrap's children, so they can be reaped.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        throw_errno("cannot become a child subreaper");
    const bool relay_driver = options.port_driver == cli::PortDriver::Relay;
    Launcher launcher(command, ids, original_mask, relay_driver, options.pid_ns);
    raise_fd_limit();
    const auto namespace_id = namespace_processes::network_namespace_of(launcher.child().pid());
    if (!namespace_id)
        throw_errno("cannot identify the new network namespace");
    UniqueFd signal_fd = signals::open_signalfd();
    ::signal(SIGPIPE, SIG_IGN);  // only here, in the parent: the command keeps its SIGPIPE

    // libslirp always runs: it is the namespace's way out (outbound traffic, DNS).
    SlirpSession slirp(launcher.take_tap(), options.allow_host_loopback);
    std::optional<Relay> relay;
    std::vector<PollSource*> sources{&slirp};
    if (relay_driver) {
        relay.emplace(options.host_addr, options.host_port, options.guest_port, launcher.take_connector_socket());
        sources.push_back(&*relay);
    } else {
        slirp.add_tcp_forward(options.host_addr, options.host_port, options.guest_port);
    }
    launcher.start_command();
    log::info("running %s", command.front().c_str());
    sandbox::confine();
    sandbox::self_test_if_requested();
    const int status = event_loop::run(sources, signal_fd.get(), launcher.child());
    if (relay) {
        relay->stop_connector();  // it exits on end-of-file; reap it before the sweep
        if (launcher.connector_pid() > 0)
            namespace_processes::reap(launcher.connector_pid(), kLeftoverGraceMs);
    }
    // Nothing may outlive portwrap inside the namespace: it would run on without a
    // network (docs/design.md). With --pid-ns the kernel has ended them all when the
    // init exited, and the sweep finds nothing.
    namespace_processes::end_all(*namespace_id, kLeftoverGraceMs);
    return exit_status_from_wait(status);
}

}  // namespace

int main(int argc, char** argv)
{
    const cli::ParseResult parsed = cli::parse(std::vector<std::string>(argv + 1, argv + argc));
    if (const auto* usage = std::get_if<cli::UsageError>(&parsed)) {
        log::error("%s (see 'portwrap --help')", usage->message.c_str());
        return kExitSetupFailure;
    }
    if (std::holds_alternative<cli::ShowHelp>(parsed)) {
        std::fputs(cli::help_text().c_str(), stdout);
        return std::fflush(stdout) == 0 ? 0 : kExitSetupFailure;
    }
    if (std::holds_alternative<cli::ShowVersion>(parsed)) {
        std::fputs(cli::version_text().c_str(), stdout);
        return std::fflush(stdout) == 0 ? 0 : kExitSetupFailure;
    }
    try {
        return run(std::get<cli::Options>(parsed));
    } catch (const Error& e) {
        log::error("%s", e.what());
        return e.exit_status();
    } catch (const std::exception& e) {
        log::error("internal error: %s", e.what());
        return kExitSetupFailure;
    }
}
