#include "session.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fcntl.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "connector.h"
#include "control_server.h"
#include "error.h"
#include "event_loop.h"
#include "exit_status.h"
#include "forward_table.h"
#include "guest_port_template.h"
#include "handoff.h"
#include "handoff_filter.h"
#include "host_access_relays.h"
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
#include "resolv_conf.h"
#include "sandbox.h"
#include "session_policy.h"
#include "signals.h"
#include "slirp_session.h"
#include "socket_owner.h"

namespace portwrap::session {
namespace {

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
    auto planned = jupyterhub::plan([](const char* name) { return static_cast<const char*>(::getenv(name)); },
                                    session_policy::jupyterhub_inside_address(options.port_driver));
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

// The run's parts, declared in the order they are made: on an exception they are
// undone in reverse, the launcher (which kills and reaps the child) after everything
// that refers to the namespace.
class Session {
public:
    explicit Session(cli::Options options) : options_(std::move(options)) {}

    int run()
    {
        prepare();
        launch();
        open_host_sides();
        announce();
        const int status = serve();
        end();
        return exit_status_from_wait(status);
    }

private:
    // What can be decided and checked before the namespace exists.
    void prepare()
    {
        log::set_verbose(options_.verbose);
        log::install_glib_handler();
        if (options_.jupyterhub)
            extra_environment_ = apply_jupyterhub(options_);
        command_ = expand_guest_port(options_.command, options_.guest_port);
        guest_listeners_ = session_policy::guest_listeners(options_.to_host);
        ids_ = id_map::make_plan(options_.map_root);
        // Before anything can fail: a killed run's port file must not outlive this start.
        if (!options_.port_file.empty()) {
            // A script trusts the ports it reads there: nobody else may swap the file.
            path_safety::check_parents(options_.port_file, "cannot write the port file " + options_.port_file,
                                       ::geteuid());
            port_file::remove_stale(options_.port_file);
        }
    }

    // Up to a namespace with tap0, the -T listeners and (if needed) the connector.
    void launch()
    {
        // Block the handled signals before clone(): none may be lost between clone() and
        // the event loop, and the child inherits the block until it restores the mask.
        const sigset_t original_mask = signals::block_handled();
        // Orphans of the command become portwrap's children, so they can be reaped.
        if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
            throw_errno("cannot become a child subreaper");
        ready_fd_ = take_ready_fd(options_.ready_fd);
        const auto choice =
            session_policy::choose_port_driver(options_.port_driver, [] { return handoff_filter::unsupported_reason(); });
        if (!choice.note.empty())
            log::info("%s", choice.note.c_str());
        driver_ = choice.driver;
        const bool with_connector = session_policy::needs_connector(driver_, options_.forwards, ready_fd_.valid(),
                                                                    !options_.control_socket.empty());
        // Built before clone(): libseccomp allocates (handoff_filter.h).
        const bool handoff = driver_ == cli::PortDriver::Handoff;
        if (handoff)
            filter_ = handoff_filter::build();
        launcher_.emplace(command_, ids_, original_mask, with_connector, options_.pid_ns,
                          dns_resolv_conf(options_.dns), options_.stop, guest_listeners_.listeners,
                          handoff ? &filter_ : nullptr);
        raise_fd_limit();
        const auto namespace_id = namespace_processes::network_namespace_of(launcher_->child().pid());
        if (!namespace_id)
            throw_errno("cannot identify the new network namespace");
        namespace_id_ = *namespace_id;
        signal_fd_ = signals::open_signalfd();
        ::signal(SIGPIPE, SIG_IGN);  // only here, in the parent: the command keeps its SIGPIPE
        if (with_connector)
            connector_.emplace(launcher_->take_connector_socket(), launcher_->connector_pid());
        else
            connector_.emplace();  // not running: forwards that need it are refused
    }

    // Everything on the host side: libslirp, the forwards, the -T relays, the handoff
    // server, the control socket, the port file, and the clean-up process for them.
    void open_host_sides()
    {
        // libslirp always runs: it is the namespace's way out (outbound traffic, DNS).
        slirp_.emplace(launcher_->take_tap(), options_.allow_host_loopback);
        const bool handoff = driver_ == cli::PortDriver::Handoff;
        forwards_.emplace(*slirp_, driver_ == cli::PortDriver::Relay, *connector_, options_.max_connections, handoff);
        forwards_->set_namespace(namespace_id_);
        to_host_.emplace(launcher_->take_to_host_listeners(), options_.to_host, guest_listeners_.owner_of,
                         forwards_->pipes(), options_.max_connections);
        if (handoff)
            handoff_server_.emplace(launcher_->take_handoff_listener(), *forwards_);
        std::vector<std::string> given_addresses{options_.host_addr};  // what ctl add may bind besides loopback
        for (const forward::Spec& spec : options_.forwards) {
            host_sides_.push_back(forwards_->add(spec));
            if (!spec.unix_path.empty())
                own_unix_socket(spec.unix_path);
            else
                given_addresses.push_back(spec.host_addr);
        }
        if (!options_.control_socket.empty()) {
            control_.emplace(host_endpoint::listen_unix(options_.control_socket), *forwards_, options_.host_addr,
                             given_addresses);
            own_unix_socket(options_.control_socket);
            log::info("control socket: %s", options_.control_socket.c_str());
        }
        if (!options_.port_file.empty()) {
            port_file_lock_ = port_file::write(options_.port_file, host_sides_);
            janitor_.add(options_.port_file);
        }
        janitor_.start();
    }

    // A Unix socket just made: its owner file names this host (socket_owner.h); the
    // janitor removes the socket, then the owner file.
    void own_unix_socket(const std::string& path)
    {
        janitor_.add(path);
        socket_owner::write(path);
        janitor_.add(socket_owner::path_for(path));
    }

    // Only now that nothing more can fail: where to connect. A failed --control-socket
    // or --port-file must not print "listening on" before its error.
    void announce() const
    {
        for (size_t i = 0; i < options_.forwards.size(); ++i) {
            const forward::Spec& spec = options_.forwards[i];
            if (!spec.unix_path.empty())
                announce_unix_forward(spec, i == 0 ? options_.print_url : "");
            else if (spec.host_port == 0)
                log::notice("listening on %s, forwarded to port %u inside", host_sides_[i].c_str(), spec.guest_port);
        }
        if (!options_.print_url.empty() && options_.forwards.front().unix_path.empty())
            log::notice("%s", expand_url(options_.print_url, host_sides_.front()).c_str());
    }

    // Lets the command run, confines portwrap and serves until the command has exited
    // and the loop has drained. Returns the command's wait status.
    int serve()
    {
        std::vector<PollSource*> sources{&*slirp_, &*forwards_, &*to_host_};
        if (handoff_server_)
            sources.push_back(&*handoff_server_);
        if (ready_fd_) {
            readiness_.emplace(std::move(ready_fd_), host_sides_,
                               session_policy::readiness_targets(driver_, options_.forwards), *connector_);
            sources.push_back(&*readiness_);
        }
        if (control_)
            sources.push_back(&*control_);
        launcher_->start_command(forward_environment(host_sides_, forwards_->list()) + extra_environment_);
        log::info("running %s", command_.front().c_str());
        sandbox::confine(driver_ == cli::PortDriver::Handoff);
        sandbox::self_test_if_requested();
        // Asked to stop (or the command is gone): the files go at once, before a batch
        // scheduler's SIGKILL can end the janitor with us.
        return event_loop::run(sources, signal_fd_.get(), launcher_->child(), options_.stop,
                               [&] { janitor_.remove_now(); });
    }

    // The helpers go once the command has: the connector (reaped before the sweep),
    // whatever the command left in the namespace, then the clean-up process.
    void end()
    {
        connector_->stop(options_.stop.leftover_grace_ms, signal_fd_.get());
        // Nothing may outlive portwrap inside the namespace: it would run on without a
        // network (docs/design.md). With --pid-ns the kernel has ended them all when the
        // init exited, and the sweep finds nothing.
        namespace_processes::end_all(namespace_id_, options_.stop.leftover_grace_ms, signal_fd_.get());
        janitor_.finish();
    }

    cli::Options options_;
    std::string extra_environment_;  // --jupyterhub's, for the command
    std::vector<std::string> command_;  // {guest-port} expanded
    session_policy::GuestListeners guest_listeners_;
    id_map::Plan ids_;
    UniqueFd ready_fd_;
    cli::PortDriver driver_ = cli::PortDriver::Relay;
    std::vector<sock_filter> filter_;  // the handoff driver's, made before clone()
    std::optional<Launcher> launcher_;
    namespace_processes::NamespaceId namespace_id_;
    UniqueFd signal_fd_;
    std::optional<SlirpSession> slirp_;
    std::optional<Connector> connector_;
    std::optional<ForwardTable> forwards_;
    std::optional<HostAccessRelays> to_host_;
    std::optional<HandoffServer> handoff_server_;
    PathJanitor janitor_;  // removes Unix sockets and the port file when portwrap ends
    std::vector<std::string> host_sides_;  // each forward's, as bound
    std::optional<ControlServer> control_;
    UniqueFd port_file_lock_;  // held until portwrap exits: the port file is live while locked
    std::optional<ReadinessProbe> readiness_;
};

}  // namespace

int run(cli::Options options)
{
    return Session(std::move(options)).run();
}

}  // namespace portwrap::session
