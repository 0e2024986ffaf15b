// The handoff driver's filter (handoff_filter.h), end to end in a child process: it
// stops bind() and nothing else, and the listener fd sees the bind's arguments. And
// its shape: the kernel's action cache must be able to skip it for every other call.
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
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

// The kernel's test, at filter attach, of whether `program` allows syscall `nr` of
// `arch` whatever its arguments (kernel/seccomp.c, seccomp_is_const_allow, 5.11 and
// later): it runs the program reading only the number and the architecture, and
// gives up at any other load or instruction. A syscall for which this holds skips
// the filter from then on; any other runs the BPF program on every call.
bool kernel_caches_allow(const std::vector<sock_filter>& program, uint32_t arch, uint32_t nr)
{
    uint32_t value = 0;
    for (size_t pc = 0; pc < program.size(); ++pc) {
        const sock_filter& insn = program[pc];
        switch (insn.code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (insn.k == offsetof(seccomp_data, nr))
                value = nr;
            else if (insn.k == offsetof(seccomp_data, arch))
                value = arch;
            else
                return false;  // an argument or the instruction pointer
            break;
        case BPF_RET | BPF_K:
            return insn.k == SECCOMP_RET_ALLOW;
        case BPF_JMP | BPF_JA:
            pc += insn.k;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            pc += value == insn.k ? insn.jt : insn.jf;
            break;
        case BPF_JMP | BPF_JGE | BPF_K:
            pc += value >= insn.k ? insn.jt : insn.jf;
            break;
        case BPF_JMP | BPF_JGT | BPF_K:
            pc += value > insn.k ? insn.jt : insn.jf;
            break;
        case BPF_JMP | BPF_JSET | BPF_K:
            pc += (value & insn.k) != 0 ? insn.jt : insn.jf;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            value &= insn.k;
            break;
        default:
            return false;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("the kernel's action cache skips the handoff filter for every syscall but bind()", "[handoff-filter]")
{
#if defined(__x86_64__)
    const uint32_t native = AUDIT_ARCH_X86_64, compat = AUDIT_ARCH_I386;
#elif defined(__aarch64__)
    const uint32_t native = AUDIT_ARCH_AARCH64, compat = AUDIT_ARCH_ARM;
#else
    SKIP("no architecture constants for this build");
    const uint32_t native = 0, compat = 0;
#endif
    // Every syscall of the command passes the filter: the server's reads and writes
    // cost the same as outside only if the kernel need not run it for them
    // (docs/performance.md). Argument checks or other loads would end that.
    const std::vector<sock_filter> program = handoff_filter::build();
    REQUIRE(!program.empty());
    // A positive control: the emulation does tell the stopped call from the others.
    CHECK_FALSE(kernel_caches_allow(program, native, SYS_bind));
    int uncached = 0;
    for (uint32_t nr = 0; nr < 1024; ++nr)
        if (nr != SYS_bind && !kernel_caches_allow(program, native, nr))
            ++uncached;
    CHECK(uncached == 0);
    // Another ABI's calls (an i386 program's) are allowed without a look either.
    int uncached_compat = 0;
    for (uint32_t nr = 0; nr < 1024; ++nr)
        if (!kernel_caches_allow(program, compat, nr))
            ++uncached_compat;
    CHECK(uncached_compat == 0);
}

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
