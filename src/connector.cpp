#include "connector.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <poll.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "fd_closing.h"
#include "fd_passing.h"
#include "guest_network.h"
#include "log.h"
#include "namespace_processes.h"
#include "sandbox_policies.h"
#include "seccomp_filter.h"

namespace portwrap::connector {
namespace {

// How long portwrap waits for the connector's answer. The connector only calls
// socket() and a non-blocking connect(), so it answers within microseconds; one that
// has not answered in this time is stopped or starved, and waiting on would freeze
// the event loop (the control socket, every other connection) with it.
constexpr int kReplyTimeoutMs = 1000;

// Drops every capability: the connector only needs socket() and connect() on the
// namespace's loopback, which any process may do.
void drop_capabilities() noexcept
{
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    ::syscall(SYS_capset, &header, data);
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

[[noreturn]] void serve(int socket) noexcept
{
    for (;;) {
        Request request;
        ssize_t got = ::recv(socket, &request, sizeof request, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != sizeof request)
            _exit(0);  // portwrap closed its end (or sent garbage): done
        Reply reply;
        socklen_t guest_length = 0;
        sockaddr_storage guest = guest_network::guest_socket_address(request.target == Target::TapAddress6,
                                                                     request.port, &guest_length);
        if (request.target == Target::Loopback)
            reinterpret_cast<sockaddr_in*>(&guest)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        UniqueFd fd(
            ::socket(guest.ss_family, (request.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd) {
            reply.error = errno;
        } else {
            // The relay passes small writes on at once (Nagle would hold them back
            // while earlier data is unacknowledged): set here, off portwrap's path.
            if (!request.udp) {
                int on = 1;
                ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            }
            if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&guest), guest_length) != 0 &&
                errno != EINPROGRESS) {
                reply.error = errno;
                fd.reset();
            }
        }
        const bool sent = fd_passing::send(socket, &reply, sizeof reply, fd.get()) == sizeof reply;
        fd.reset();
        if (!sent)
            _exit(0);
    }
}

// The first act of every process on the way to the connector: the command runs as
// the same user (and with --map-root holds every capability of the namespace), and a
// dumpable connector could be ptraced into handing portwrap forged replies and fds.
// Non-dumpable, only a holder of CAP_SYS_PTRACE in the host's user namespace can.
void make_non_dumpable() noexcept
{
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        _exit(0);
}

// The connector's own set-up, once its parent is the one it will keep, then serve().
[[noreturn]] void become_connector(int socket) noexcept
{
    ::prctl(PR_SET_NAME, "portwrap-conn");
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    {
        UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
        for (int fd = 0; fd <= 2 && null; ++fd)
            ::dup2(null.get(), fd);
        if (null.get() <= 2)
            (void)null.release();  // it is itself one of 0-2 (one was closed): keep it
    }
    // Nothing of the namespace child may stay open here: above all not its handshake
    // socket, whose end-of-file tells portwrap that the command's exec succeeded.
    fd_closing::close_fds_except(3, {socket});
    drop_capabilities();
    // Without a filter, portwrap gets no connector: its requests then fail at once.
    if (!seccomp_filter::load(sandbox_policies::connector()))
        _exit(0);
    serve(socket);
}

// In a PID namespace, orphans go to the namespace's init, never to a subreaper
// outside it: the connector is simply the init's child, and dies with it.
pid_t spawn_in_pid_namespace(UniqueFd socket)
{
    pid_t connector = ::fork();
    if (connector < 0)
        throw_errno("cannot fork the connector");
    if (connector == 0) {
        make_non_dumpable();
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != 1)
            _exit(0);
        become_connector(socket.get());
    }
    return connector;
}

}  // namespace

pid_t spawn(UniqueFd socket, pid_t portwrap_pid, bool in_pid_namespace)
{
    if (in_pid_namespace)
        return spawn_in_pid_namespace(std::move(socket));
    // CLONE_PARENT makes the connector portwrap's child at once, the sibling of the
    // caller: nothing to wait for (a middle process that forks and exits cost the
    // start-up up to 10 ms on a loaded machine). A fork-like raw clone, as in
    // launcher.cpp. Its exit signal is the caller's own, SIGCHLD.
    const long connector = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (connector < 0)
        throw_errno("cannot start the connector process in the namespace (clone with CLONE_PARENT)");
    if (connector == 0) {
        make_non_dumpable();
        // Had portwrap died before the clone, the parent would be another process.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != portwrap_pid)
            _exit(0);
        become_connector(socket.get());
    }
    return static_cast<pid_t>(connector);
}

}  // namespace portwrap::connector

namespace portwrap {

using connector::Reply;
using connector::Request;

UniqueFd Connector::open(uint16_t port, bool udp, connector::Target target) noexcept
{
    const int socket = socket_.get();
    Request request;
    request.port = port;
    request.udp = udp ? 1 : 0;
    request.target = target;
    // Never block the event loop on the connector: a full queue fails this request.
    ssize_t sent;
    do {
        sent = ::send(socket, &request, sizeof request, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent != sizeof request)
        return UniqueFd();

    pollfd answer{socket, POLLIN, 0};
    int ready;
    do {
        ready = ::poll(&answer, 1, connector::kReplyTimeoutMs);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
        // Stopped (SIGSTOP, a debugger) or starved: give it up for good, so that no
        // later request waits too, and a late reply can never be taken for the
        // answer to another request. It reads end-of-file and exits once it runs.
        ::shutdown(socket, SHUT_RDWR);
        log::error("the connector in the namespace did not answer within %d ms (stopped?): new connections "
                   "through the forwards into the namespace fail from now on; restart portwrap",
                   connector::kReplyTimeoutMs);
        errno = ETIMEDOUT;
        return UniqueFd();
    }
    Reply reply;
    UniqueFd connection;
    ssize_t got = fd_passing::receive(socket, &reply, sizeof reply, connection);
    if (got != sizeof reply) {
        if (got >= 0)  // else keep receive()'s errno: EMFILE when the fd found no slot here
            errno = got == 0 ? ECONNABORTED : EPROTO;
        return UniqueFd();
    }
    if (reply.error != 0 || !connection) {
        errno = reply.error ? reply.error : EPROTO;
        return UniqueFd();
    }
    return connection;
}

void Connector::stop(int grace_ms, int signal_fd) noexcept
{
    if (!socket_)
        return;
    socket_.reset();
    if (pid_ > 0 && !namespace_processes::reap(pid_, grace_ms, signal_fd)) {
        ::kill(pid_, SIGKILL);
        namespace_processes::reap(pid_, grace_ms, signal_fd);
    }
    pid_ = 0;
}

}  // namespace portwrap
