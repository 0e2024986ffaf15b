// enosys418: runs a command the way it would run on Linux 4.18 (RHEL 8, Rocky 8):
// every system call newer than 4.18 fails with ENOSYS, and seccomp(2) requests that
// 4.18 did not know fail with EINVAL. The seccomp filter is inherited by everything
// the command starts, across fork, exec and setuid.
//
//   enosys418 COMMAND [ARG...]   run COMMAND under the filter
//   enosys418 --probe            check the filter itself (exit 0 if it works)
//
// Runs as root: an unprivileged process may install a filter only after
// PR_SET_NO_NEW_PRIVS, which would also disable the setuid newuidmap of the users the
// tests switch to. Root (CAP_SYS_ADMIN) installs it without, so setuid still works.
//
// x86_64 only: the numbers are x86_64's. 4.18's last system call there is rseq (334);
// 335-423 are unused and 424 (pidfd_send_signal, 5.1) starts the calls every
// architecture shares: io_uring_*, open_tree, move_mount, fsopen.., pidfd_open,
// clone3, close_range, openat2, pidfd_getfd, faccessat2, process_madvise,
// epoll_pwait2, mount_setattr, landlock_*, memfd_secret, futex_waitv, ... The x32
// numbers (bit 30 set) fall above that bound too. Calls from i386 programs (another
// numbering) are let through untouched.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_GET_NOTIF_SIZES
#define SECCOMP_GET_NOTIF_SIZES 3
#endif

// The last x86_64 system call of Linux 4.18.
#define LAST_418 334  // rseq
// SECCOMP_SET_MODE_FILTER flags 4.18 knew: TSYNC (3.17), LOG (4.14), SPEC_ALLOW (4.17).
// NEW_LISTENER (5.0), TSYNC_ESRCH (5.7) and WAIT_KILLABLE_RECV (5.19) are newer.
#define FLAGS_418 (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

static int install(void)
{
#if !defined(__x86_64__)
    fprintf(stderr, "enosys418: only x86_64's system call numbers are known\n");
    return 77;
#else
    struct sock_filter program[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 11),  // other: 13 allow
        /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, LAST_418, 10, 0),  // newer: 14 ENOSYS
        /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 8),  // not seccomp: 13 allow
        /* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_GET_NOTIF_SIZES, 8, 0),  // 15 EINVAL
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_SET_MODE_FILTER, 0, 5),  // other ops: 13 allow
        /* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
        /* 9 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ~(unsigned)FLAGS_418, 5, 0),  // 15 EINVAL
        /* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]) + 4),
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),  // high half 0: 13 allow
        /* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
        /* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        /* 15 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
    };
    struct sock_fprog filter = {sizeof program / sizeof program[0], program};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) {
        fprintf(stderr, "enosys418: cannot install the seccomp filter: %s%s\n", strerror(errno),
                errno == EACCES ? " (run it as root: without CAP_SYS_ADMIN it would need no_new_privs)" : "");
        return 125;
    }
    return 0;
#endif
}

// Checks the filter from inside: what must fail fails, what must work works.
static int probe(void)
{
    int failed = 0;
    long r;
#define CHECK_CALL(what, call, want)                                                                         \
    do {                                                                                                     \
        errno = 0;                                                                                           \
        r = (call);                                                                                          \
        int e = r == -1 ? errno : 0;                                                                         \
        int ok = (want) ? e == (want) : e != ENOSYS;                                                         \
        printf("%s %s: %s\n", ok ? "ok  " : "FAIL", what, r == -1 ? strerror(e) : "succeeded");             \
        failed += !ok;                                                                                       \
    } while (0)
    CHECK_CALL("close_range (5.9) -> ENOSYS", syscall(436, 1000u, 1001u, 0u), ENOSYS);
    CHECK_CALL("clone3 (5.3) -> ENOSYS", syscall(435, NULL, 0), ENOSYS);
    CHECK_CALL("pidfd_open (5.3) -> ENOSYS", syscall(434, getpid(), 0), ENOSYS);
    CHECK_CALL("openat2 (5.6) -> ENOSYS", syscall(437, -100, "/", NULL, 0), ENOSYS);
    CHECK_CALL("faccessat2 (5.8) -> ENOSYS", syscall(439, -100, "/", 0, 0), ENOSYS);
    CHECK_CALL("seccomp(SECCOMP_GET_NOTIF_SIZES) (5.0) -> EINVAL",
               syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, NULL), EINVAL);
    CHECK_CALL("seccomp(SET_MODE_FILTER, NEW_LISTENER) (5.0) -> EINVAL",
               syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, NULL), EINVAL);
    CHECK_CALL("statx (4.11) is not refused", syscall(332, -100, "/", 0, 0x7ff, NULL), 0);
    CHECK_CALL("rseq (4.18) is not refused", syscall(334, NULL, 0, 0, 0), 0);
    CHECK_CALL("getpid works", syscall(__NR_getpid), 0);
    return failed ? 1 : 0;
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: enosys418 COMMAND [ARG...] | enosys418 --probe\n");
        return 125;
    }
    int status = install();
    if (status != 0)
        return status;
    if (strcmp(argv[1], "--probe") == 0)
        return probe();
    execvp(argv[1], argv + 1);
    fprintf(stderr, "enosys418: cannot run %s: %s\n", argv[1], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
