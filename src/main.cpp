// portwrap: run a command in its own user and network namespace, with host ports
// forwarded in (by portwrap's relay or by the in-process libslirp). main() wires the
// stages together and turns any failure into one line on stderr and an exit status.
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <list>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli.h"
#include "connector.h"
#include "error.h"
#include "event_loop.h"
#include "exit_status.h"
#include "guest_port_template.h"
#include "host_access_relays.h"
#include "handoff.h"
#include "handoff_filter.h"
#include "host_endpoint.h"
#include "id_map.h"
#include "jupyterhub.h"
#include "launcher.h"
#include "log.h"
#include "namespace_processes.h"
#include "path_janitor.h"
#include "path_safety.h"
#include "port_file.h"
#include "readiness.h"
#include "forward_table.h"
#include "control_server.h"
#include "control_client.h"
#include "resolv_conf.h"
#include "sandbox.h"
#include "self_check_probe.h"
#include "signals.h"
#include "slirp_session.h"
#include "socket_owner.h"

namespace {

using namespace portwrap;

// portwrap is built to run with the user's own privileges. Installed setuid, setgid
// or with file capabilities it would create namespaces, write id maps, and connect to
// sockets (`ctl`) with powers the user does not have. So before anything else — before
// the arguments are read, for every mode, --help and --version included — a copy that
// the kernel started with elevated privileges (AT_SECURE) refuses to run.
bool refuse_elevated_privileges()
{
    if (::getauxval(AT_SECURE) == 0)
        return false;
    log::error("refusing to run with elevated privileges (setuid, setgid or file capabilities): "
               "install portwrap as a plain executable (chmod 0755, no setcap)");
    return true;
}

// Each relayed connection holds two fds (its sockets), and two more per direction while
// data is in flight (a pipe). The usual soft limit of 1024 would cap the relay near 250
// busy connections (or --max-connections of them), so portwrap raises its own
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

// Where to connect to a Unix-socket forward, in the job's output: the socket is only
// on this machine, so the line names it and the ssh -L that reaches it from another.
void announce_unix_forward(const forward::Spec& spec, const std::string& print_url)
{
    log::notice("listening on unix:%s, forwarded to port %u inside", spec.unix_path.c_str(), spec.guest_port);
    char host[256] = "";
    ::gethostname(host, sizeof host - 1);
    // ssh -L splits its argument at ':' and a shell at blanks and quotes: such a path
    // gets no ready-made line.
    const bool fits_ssh_line = host[0] != '\0' && spec.unix_path.find_first_of(" \t:'\"") == std::string::npos;
    if (fits_ssh_line)
        log::notice("from another machine: ssh -N -L %u:%s %s", spec.guest_port, spec.unix_path.c_str(), host);
    // A URL with the socket's path as its host (http:///path/lab) opens nothing: the
    // URL is the one that works through that ssh -L, on its local port.
    if (print_url.empty())
        return;
    const std::string url = expand_url(print_url, "localhost:" + std::to_string(spec.guest_port));
    if (fits_ssh_line)
        log::notice("then: %s", url.c_str());
    else
        log::notice("through an ssh -L from local port %u to the socket: %s", spec.guest_port, url.c_str());
}

// The resolv.conf --dns asks for: its servers and the host's search and options lines.
std::optional<std::string> dns_resolv_conf(const std::vector<std::string>& servers)
{
    if (servers.empty())
        return std::nullopt;
    return resolv_conf::with_nameservers(resolv_conf::read_host(), servers);
}

// The --ready-fd, checked and kept from the command (close-on-exec). Invalid if none.
UniqueFd take_ready_fd(int fd)
{
    if (fd < 0)
        return UniqueFd();
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0)
        throw_errno("--ready-fd " + std::to_string(fd) + " is not an open file descriptor");
    ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    return UniqueFd(fd);
}

// --jupyterhub: the forwards JupyterHub's environment asks for, added to the options'
// (the server's port first, so that {guest-port} and {host-port} name it). Returns
// what goes into the command's environment besides the host sides.
std::string apply_jupyterhub(cli::Options& options)
{
    // The relay delivers to 127.0.0.1 inside; libslirp's hostfwd to tap0's address.
    const std::string inside = options.port_driver == cli::PortDriver::Slirp ? "0.0.0.0" : "127.0.0.1";
    auto planned =
        jupyterhub::plan([](const char* name) { return static_cast<const char*>(::getenv(name)); }, inside);
    if (const auto* error = std::get_if<std::string>(&planned))
        throw Error(*error);
    const jupyterhub::Plan& plan = std::get<jupyterhub::Plan>(planned);
    for (const std::string& line : jupyterhub::describe(plan))
        log::info("--jupyterhub: %s", line.c_str());
    options.forwards.insert(options.forwards.begin(), plan.service);
    options.guest_port = plan.service.guest_port;
    options.to_host.insert(options.to_host.end(), plan.to_host.begin(), plan.to_host.end());
    if (plan.service_url_inside.empty())
        return "";
    return std::string("JUPYTERHUB_SERVICE_URL=") + plan.service_url_inside + '\0';
}

// The port driver this launch uses: --port-driver, with 'auto' resolved to handoff
// where the kernel supports it and relay elsewhere (said once under -v, with why).
cli::PortDriver choose_port_driver(const cli::Options& options)
{
    if (options.port_driver != cli::PortDriver::Auto && options.port_driver != cli::PortDriver::Handoff)
        return options.port_driver;
    const auto reason = handoff_filter::unsupported_reason();
    if (reason && options.port_driver == cli::PortDriver::Handoff)
        throw Error("--port-driver=handoff is unavailable here: " + *reason + " (use --port-driver=relay)");
    if (reason) {
        log::info("port driver: relay (handoff unavailable: %s)", reason->c_str());
        return cli::PortDriver::Relay;
    }
    log::info("port driver: handoff (a server's bind() inside gets the host socket)");
    return cli::PortDriver::Handoff;
}

int run(cli::Options options)
{
    log::set_verbose(options.verbose);
    log::install_glib_handler();
    const std::string extra_environment = options.jupyterhub ? apply_jupyterhub(options) : "";
    const std::vector<std::string> command = expand_guest_port(options.command, options.guest_port);
    // -T: every listener the child makes inside, and the -T each belongs to.
    std::vector<host_access::GuestListener> guest_listeners;
    std::vector<size_t> owner_of;
    for (size_t i = 0; i < options.to_host.size(); ++i)
        for (const auto& listener : host_access::guest_listeners(options.to_host[i])) {
            guest_listeners.push_back(listener);
            owner_of.push_back(i);
        }
    const id_map::Plan ids = id_map::make_plan(options.map_root);
    // Before anything can fail: a killed run's port file must not outlive this start.
    if (!options.port_file.empty()) {
        // A script trusts the ports it reads there: nobody else may swap the file.
        path_safety::check_parents(options.port_file, "cannot write the port file " + options.port_file, ::geteuid());
        port_file::remove_stale(options.port_file);
    }

    // Block the handled signals before clone(): none may be lost between clone() and
    // the event loop, and the child inherits the block until it restores the mask.
    const sigset_t original_mask = signals::block_handled();
    // Orphans of the command become portwrap's children, so they can be reaped.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        throw_errno("cannot become a child subreaper");
    UniqueFd ready_fd = take_ready_fd(options.ready_fd);
    const cli::PortDriver driver = choose_port_driver(options);
    const bool relay_driver = driver == cli::PortDriver::Relay;
    const bool handoff = driver == cli::PortDriver::Handoff;
    // UDP is always relayed (udp_relay.h says why); TCP with the relay driver, and with
    // the handoff driver for a Unix host side or a server it cannot hand off to. The
    // readiness probe connects from inside too, and forwards added through the
    // control socket may need it.
    const bool connector_used = ready_fd.valid() || !options.control_socket.empty() ||
                                std::any_of(options.forwards.begin(), options.forwards.end(), [&](const auto& f) {
                                    return relay_driver || handoff || f.protocol == forward::Protocol::Udp;
                                });
    // Built before clone(): libseccomp allocates (handoff_filter.h).
    const std::vector<sock_filter> filter = handoff ? handoff_filter::build() : std::vector<sock_filter>();
    Launcher launcher(command, ids, original_mask, connector_used, options.pid_ns, dns_resolv_conf(options.dns),
                      options.stop, guest_listeners, handoff ? &filter : nullptr);
    raise_fd_limit();
    const auto namespace_id = namespace_processes::network_namespace_of(launcher.child().pid());
    if (!namespace_id)
        throw_errno("cannot identify the new network namespace");
    UniqueFd signal_fd = signals::open_signalfd();
    ::signal(SIGPIPE, SIG_IGN);  // only here, in the parent: the command keeps its SIGPIPE

    // libslirp always runs: it is the namespace's way out (outbound traffic, DNS).
    SlirpSession slirp(launcher.take_tap(), options.allow_host_loopback);
    UniqueFd connector = connector_used ? launcher.take_connector_socket() : UniqueFd();
    ForwardTable forwards(slirp, relay_driver, connector.get(), options.max_connections, handoff);
    forwards.set_namespace(*namespace_id);
    HostAccessRelays to_host(launcher.take_to_host_listeners(), options.to_host, owner_of, forwards.pipes(),
                             options.max_connections);
    std::vector<PollSource*> sources{&slirp, &forwards, &to_host};
    std::optional<HandoffServer> handoff_server;
    if (handoff) {
        handoff_server.emplace(launcher.take_handoff_listener(), forwards);
        sources.push_back(&*handoff_server);
    }
    PathJanitor janitor;  // removes Unix sockets and the port file when portwrap ends
    // A Unix socket just made: its owner file names this host (socket_owner.h); the
    // janitor removes the socket, then the owner file.
    auto own_unix_socket = [&janitor](const std::string& path) {
        janitor.add(path);
        socket_owner::write(path);
        janitor.add(socket_owner::path_for(path));
    };
    std::vector<std::string> host_sides;
    std::vector<std::string> given_addresses{options.host_addr};  // what ctl add may bind besides loopback
    for (const forward::Spec& spec : options.forwards) {
        const std::string where = forwards.add(spec);
        if (!spec.unix_path.empty())
            own_unix_socket(spec.unix_path);
        else
            given_addresses.push_back(spec.host_addr);
        host_sides.push_back(where);
    }
    std::optional<ControlServer> control;
    if (!options.control_socket.empty()) {
        forward::Spec socket_spec;
        socket_spec.unix_path = options.control_socket;
        control.emplace(host_endpoint::listen_tcp(socket_spec), forwards, options.host_addr, given_addresses);
        own_unix_socket(options.control_socket);
        log::info("control socket: %s", options.control_socket.c_str());
    }
    UniqueFd port_file_lock;  // held until portwrap exits: the port file is live while locked
    if (!options.port_file.empty()) {
        port_file_lock = port_file::write(options.port_file, host_sides);
        janitor.add(options.port_file);
    }
    janitor.start();
    // Only now that nothing more can fail: where to connect. A failed --control-socket
    // or --port-file must not print "listening on" before its error.
    for (size_t i = 0; i < options.forwards.size(); ++i) {
        const forward::Spec& spec = options.forwards[i];
        if (!spec.unix_path.empty())
            announce_unix_forward(spec, i == 0 ? options.print_url : "");
        else if (spec.host_port == 0)
            log::notice("listening on %s, forwarded to port %u inside", host_sides[i].c_str(), spec.guest_port);
    }
    if (!options.print_url.empty() && options.forwards.front().unix_path.empty())
        log::notice("%s", expand_url(options.print_url, host_sides.front()).c_str());
    std::optional<ReadinessProbe> readiness;
    if (ready_fd) {
        std::vector<ReadinessProbe::Target> targets;
        for (const forward::Spec& spec : options.forwards) {
            if (spec.protocol == forward::Protocol::Udp)
                continue;  // nothing to connect to: a UDP server cannot be probed
            // Handoff: the server's socket is on the host, and portwrap's listener for
            // clients inside (forward_table.h) answers on the loopback once it has it.
            const auto where = relay_driver || handoff ? connector::Target::Loopback
                               : spec.ipv6  ? connector::Target::TapAddress6
                                            : connector::Target::TapAddress;
            targets.push_back({spec.guest_port, where});
        }
        readiness.emplace(std::move(ready_fd), host_sides, std::move(targets), connector.get());
        sources.push_back(&*readiness);
    }
    if (control)
        sources.push_back(&*control);
    launcher.start_command(forward_environment(host_sides, forwards.list()) + extra_environment);
    log::info("running %s", command.front().c_str());
    sandbox::confine(handoff);
    sandbox::self_test_if_requested();
    // Asked to stop (or the command is gone): the files go at once, before a batch
    // scheduler's SIGKILL can end the janitor with us.
    const int status =
        event_loop::run(sources, signal_fd.get(), launcher.child(), options.stop, [&] { janitor.remove_now(); });
    if (connector) {
        connector.reset();  // the connector exits on end-of-file; reap it before the sweep
        // A stopped connector never reads that end-of-file, and the sweep cannot see
        // it (it is not dumpable): end it here.
        if (launcher.connector_pid() > 0 &&
            !namespace_processes::reap(launcher.connector_pid(), options.stop.leftover_grace_ms, signal_fd.get())) {
            ::kill(launcher.connector_pid(), SIGKILL);
            namespace_processes::reap(launcher.connector_pid(), options.stop.leftover_grace_ms, signal_fd.get());
        }
    }
    // Nothing may outlive portwrap inside the namespace: it would run on without a
    // network (docs/design.md). With --pid-ns the kernel has ended them all when the
    // init exited, and the sweep finds nothing.
    namespace_processes::end_all(*namespace_id, options.stop.leftover_grace_ms, signal_fd.get());
    janitor.finish();
    return exit_status_from_wait(status);
}

}  // namespace

int main(int argc, char** argv)
{
    if (refuse_elevated_privileges())
        return kExitSetupFailure;
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
    if (const auto* ctl = std::get_if<cli::RunCtl>(&parsed))
        return control_client::run(ctl->args);
    if (std::holds_alternative<cli::RunCheck>(parsed))
        return self_check::run();
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
