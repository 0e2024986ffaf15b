// The handoff driver's filter (handoff_filter.h), end to end in a child process: it
// stops bind() and nothing else, and the listener fd sees the bind's arguments.
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "catch.h"
#include "handoff_filter.h"

using namespace portwrap;

namespace {

// In a child: installs the filter, forks a grandchild that makes a socket, sets an
// option and binds; answers the one notification with CONTINUE. The child's exit
// status: 0 when exactly the bind was notified and the grandchild's bind succeeded.
[[noreturn]] void child(const std::vector<sock_filter>& program)
{
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);  // the test may lack CAP_SYS_ADMIN
    const int listener = handoff_filter::install(program);
    if (listener < 0)
        _exit(10);
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
        ::alarm(20);  // a trapped syscall nobody answers must not hang the test
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        int on = 1;
        ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        _exit(::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 ? 0 : 1);
    }
    seccomp_notif request{};
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0)
        _exit(11);
    if (request.data.nr != SYS_bind || static_cast<pid_t>(request.pid) != grandchild)
        _exit(12);
    seccomp_notif_resp response{};
    response.id = request.id;
    response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) != 0)
        _exit(13);
    int status = 0;
    ::waitpid(grandchild, &status, 0);
    _exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 14);
}

}  // namespace

TEST_CASE("the handoff filter notifies bind() only, and CONTINUE lets it happen", "[handoff-filter]")
{
    if (const auto reason = handoff_filter::unsupported_reason()) {
        WARN("the handoff driver is unavailable here: " + *reason);
        return;
    }
    const std::vector<sock_filter> program = handoff_filter::build();
    REQUIRE(!program.empty());
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        child(program);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("PORTWRAP_TEST_NO_HANDOFF=1 makes the probe say no", "[handoff-filter]")
{
    ::setenv("PORTWRAP_TEST_NO_HANDOFF", "1", 1);
    const auto reason = handoff_filter::unsupported_reason();
    ::unsetenv("PORTWRAP_TEST_NO_HANDOFF");
    REQUIRE(reason);
    CHECK(*reason == "PORTWRAP_TEST_NO_HANDOFF=1 makes it unavailable");
}
