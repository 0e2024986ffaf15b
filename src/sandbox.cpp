#include "sandbox.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "error.h"
#include "log.h"

namespace portwrap::sandbox {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "portwrap's seccomp filter knows x86_64 and aarch64 only"
#endif

// What the event loop, libslirp and glib use once the command runs, found with
// strace over the integration suite. Everything else fails with EPERM.
constexpr long kAllowed[] = {
    // the poll loop, the TAP fd, libslirp's sockets
    SYS_ppoll, SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_recvfrom, SYS_sendto, SYS_recvmsg,
    SYS_sendmsg, SYS_accept, SYS_accept4, SYS_connect, SYS_socket, SYS_bind, SYS_listen, SYS_shutdown,
    SYS_close, SYS_setsockopt, SYS_getsockopt, SYS_getsockname, SYS_getpeername, SYS_fcntl,
    // the relay port driver: a pipe per direction, splice() through it
    SYS_pipe2, SYS_splice, SYS_epoll_ctl, SYS_epoll_pwait,
    // a forward added through the control socket makes a relay, with its epoll set
    SYS_epoll_create1,
    // signals and children: forwarding, reaping, the leftover sweep
    SYS_kill, SYS_wait4, SYS_waitid, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_restart_syscall,
    // libslirp re-reads /etc/resolv.conf for DNS; the leftover sweep reads /proc
    SYS_newfstatat, SYS_fstat, SYS_lseek, SYS_getdents64,
    // memory, time, the rest of the C runtime
    SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise, SYS_mprotect, SYS_futex, SYS_getpid,
    SYS_gettid, SYS_getrandom, SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep, SYS_sched_yield,
    SYS_exit, SYS_exit_group,
    // throwing a C++ exception (a refused control request) under AddressSanitizer:
    // it re-reads the alternate signal stack, and a refusal makes it abort
    SYS_sigaltstack,
#if defined(__x86_64__)
    SYS_poll, SYS_gettimeofday, SYS_epoll_wait,
#endif
};

// openat is allowed for reading only: no write access, no creating or truncating.
// (O_TMPFILE includes O_DIRECTORY's bit, which reading /proc needs: take only its own.)
#ifndef PORTWRAP_COVERAGE
constexpr uint32_t kOpenatForbiddenFlags =
    O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY);
#else
// Coverage builds only (-Db_coverage=true): gcov writes its .gcda files at exit. Not
// a build to ship; the sandbox tests fail here and are not run (docs/testing.md).
constexpr uint32_t kOpenatForbiddenFlags = 0;
#endif

// The handoff driver's: the listener's ioctls (ID_VALID under both of the numbers
// kernels have used) and the calls that read the caller's sockaddr and take its socket.
constexpr uint32_t kHandoffIoctls[] = {
    static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_RECV), static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_SEND),
    static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_ID_VALID), static_cast<uint32_t>(SECCOMP_IOR(2, __u64)),
    static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_ADDFD),
};
constexpr long kHandoffAllowed[] = {SYS_pidfd_open, SYS_pidfd_getfd, SYS_process_vm_readv};

std::vector<sock_filter> build_filter(bool handoff)
{
    std::vector<sock_filter> program;
    auto statement = [&](uint16_t code, uint32_t k) { program.push_back(BPF_STMT(code, k)); };
    auto jump = [&](uint16_t code, uint32_t k, uint8_t if_true, uint8_t if_false) {
        program.push_back(BPF_JUMP(code, k, if_true, if_false));
    };
    constexpr uint32_t kDeny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);

    // A syscall made under another ABI (i386's int 0x80, x32) is never what we vetted.
    statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
    jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0);
    statement(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
#if defined(__x86_64__)
    jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1);
    statement(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
    for (long nr : kAllowed) {
        jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1);
        statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    if (handoff) {
        for (long nr : kHandoffAllowed) {
            jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1);
            statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        }
    }
    // openat(dirfd, path, flags, mode): flags is args[2]; its low 32 bits hold them all.
    jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 4);
    statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[2]));
    jump(BPF_JMP | BPF_JSET | BPF_K, kOpenatForbiddenFlags, 1, 0);
    statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    statement(BPF_RET | BPF_K, kDeny);
    // ioctl(fd, FIONREAD): libslirp sizes UDP datagrams with it. Nothing else: not
    // even terminal requests (TIOCSTI could type into the user's terminal).
    // The handoff driver adds the seccomp listener's requests.
    const uint8_t handoff_ioctls = handoff ? static_cast<uint8_t>(2 * std::size(kHandoffIoctls)) : 0;
    jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, static_cast<uint8_t>(4 + handoff_ioctls));
    statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1]));
    jump(BPF_JMP | BPF_JEQ | BPF_K, FIONREAD, 0, 1);
    statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    if (handoff) {
        for (uint32_t request : kHandoffIoctls) {
            jump(BPF_JMP | BPF_JEQ | BPF_K, request, 0, 1);
            statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        }
    }
    statement(BPF_RET | BPF_K, kDeny);

    statement(BPF_RET | BPF_K, kDeny);
    return program;
}

}  // namespace

void confine(bool handoff)
{
    // Required for an unprivileged seccomp filter, and by itself it stops setuid
    // programs from gaining privileges through us.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        throw_errno("cannot set PR_SET_NO_NEW_PRIVS");
    std::vector<sock_filter> program = build_filter(handoff);
    sock_fprog filter{static_cast<unsigned short>(program.size()), program.data()};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0)
        throw_errno("cannot install the seccomp filter");
    log::info("sandboxed: no new privileges, seccomp allow-list of %zu syscalls",
              std::size(kAllowed) + 2 + (handoff ? std::size(kHandoffAllowed) : 0));
}

void self_test_if_requested()
{
    const char* path = std::getenv("PORTWRAP_SANDBOX_SELFTEST");
    if (!path || !*path)
        return;
    errno = 0;
    int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    const int open_errno = fd < 0 ? errno : 0;
    if (fd >= 0)
        ::close(fd);
    log::error("sandbox self-test: open for writing: %s", fd < 0 ? std::strerror(open_errno) : "allowed");
    char* const argv[] = {const_cast<char*>("true"), nullptr};
    ::execve("/bin/true", argv, environ);
    log::error("sandbox self-test: execve: %s", std::strerror(errno));
}

}  // namespace portwrap::sandbox
