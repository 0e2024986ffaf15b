#include "sandbox.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "error.h"
#include "fd_pair.h"
#include "log.h"
#include "sandbox_policies.h"
#include "seccomp_filter.h"

namespace portwrap::sandbox {
namespace {

const char* outcome(int result, int err) noexcept
{
    return result < 0 ? std::strerror(err) : "allowed";
}

// socket(family, type) under the filter; reports the outcome and closes what it got.
void try_socket(const char* what, int family, int type) noexcept
{
    errno = 0;
    const UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
    const int err = errno;
    log::error("sandbox self-test: %s socket: %s", what, outcome(fd.get(), err));
}

}  // namespace

void confine(bool handoff)
{
    // portwrap stays dumpable, unlike its helpers: its credentials belong to the
    // host's user namespace, so the command (whose capabilities, even with
    // --map-root, are only its namespace's) cannot ptrace it anyway, and the user
    // keeps gdb -p and /proc/PID/fd for it (tests/integration/test-helpers.sh).
    const seccomp_filter::Policy& policy =
        handoff ? sandbox_policies::event_loop_with_handoff() : sandbox_policies::event_loop();
    seccomp_filter::install(policy);
    log::info("sandboxed: no new privileges, seccomp allow-list of %zu rules (docs/security.md)", policy.rules.size());
}

void self_test_if_requested()
{
    const char* path = std::getenv("PORTWRAP_SANDBOX_SELFTEST");
    if (!path || !*path)
        return;
    errno = 0;
    UniqueFd file(::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    const int open_errno = errno;
    log::error("sandbox self-test: open for writing: %s", outcome(file.get(), open_errno));
    file.reset();

    // Sockets of families the loop never needs: a Unix socket could reach the user's
    // D-Bus, systemd or ssh-agent; netlink, the host's routing and audit.
    try_socket("AF_UNIX", AF_UNIX, SOCK_STREAM);
    try_socket("AF_NETLINK", AF_NETLINK, SOCK_RAW);
    try_socket("AF_INET raw", AF_INET, SOCK_RAW);
    errno = 0;
    const SocketPair pair = make_socket_pair(SOCK_STREAM | SOCK_CLOEXEC);
    const int pair_errno = errno;
    log::error("sandbox self-test: socketpair: %s", outcome(pair ? 0 : -1, pair_errno));
    // The attack itself: connect to a Unix socket the test listens on (PATH.sock).
    const std::string unix_path = std::string(path) + ".sock";
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, unix_path.c_str(), sizeof address.sun_path - 1);
    errno = 0;
    int connected = -1;
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (socket) {
        connected = ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
        if (connected == 0)
            (void)!::write(socket.get(), "reached\n", 8);
    }
    const int connect_errno = errno;
    socket.reset();
    log::error("sandbox self-test: connect to a Unix socket: %s", outcome(connected, connect_errno));

    char* const argv[] = {const_cast<char*>("true"), nullptr};
    ::execve("/bin/true", argv, environ);
    log::error("sandbox self-test: execve: %s", std::strerror(errno));
}

}  // namespace portwrap::sandbox
