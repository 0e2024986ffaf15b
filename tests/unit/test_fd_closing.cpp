#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "catch.h"
#include "fd_closing.h"
#include "fd_pair.h"
#include "unique_fd.h"

using namespace portwrap;
using fd_closing::testing::Way;

namespace {

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

// In this (forked) process, close_range() fails with ENOSYS from now on, as on
// RHEL 8's Linux 4.18.
bool deny_close_range() noexcept
{
    sock_filter program[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog filter{sizeof program / sizeof program[0], program};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) == 0;
}

struct Outcome {
    std::string open_fds;  // "10 12 ..." of the probed fds still open
    char way = '?';        // 'r' close_range, 'p' /proc/self/fd, 'l' loop, 's' no seccomp
};

// In a forked child: opens fds 10..15 and 300, closes all from `lowest` except
// keep_a, keep_b (-1: none) and the report pipe (close_range denied if asked), and
// reports which are still open.
Outcome run_in_child(bool without_close_range, const char* proc_dir, int lowest, int keep_a = -1, int keep_b = -1)
{
    auto [read_end, write_end] = make_pipe(O_CLOEXEC);
    REQUIRE(read_end.valid());
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // The write end well away from the probed fds.
        const int out = ::fcntl(write_end.get(), F_DUPFD_CLOEXEC, 500);
        const int probed[] = {10, 11, 12, 13, 14, 15, 300};
        for (int fd : probed)
            ::dup2(out, fd);
        char way = 's';
        if (!without_close_range || deny_close_range()) {
            // A negative fd to keep is below any `lowest`: ignored.
            const Way used = fd_closing::testing::close_fds_except(proc_dir, lowest, {keep_a, keep_b, out});
            way = used == Way::CloseRange ? 'r' : used == Way::ProcFd ? 'p' : 'l';
        }
        std::string text(1, way);
        for (int fd : probed)
            if (::fcntl(fd, F_GETFD) >= 0)
                text += " " + std::to_string(fd);
        ssize_t ignored = ::write(out, text.data(), text.size());
        (void)ignored;
        _exit(0);
    }
    write_end.reset();
    char buffer[256];
    std::string text;
    for (ssize_t got; (got = ::read(read_end.get(), buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<size_t>(got));
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(!text.empty());
    return {text.size() > 2 ? text.substr(2) : "", text[0]};
}

}  // namespace

TEST_CASE("fds are closed by close_range where the kernel has it", "[fd-closing]")
{
    Outcome got = run_in_child(false, "/proc/self/fd", 3, 12, 14);
    CHECK(got.way == 'r');
    CHECK(got.open_fds == "12 14");
}

TEST_CASE("without close_range, /proc/self/fd is listed and the same fds are closed", "[fd-closing]")
{
    Outcome got = run_in_child(true, "/proc/self/fd", 3, 12, 14);
    REQUIRE(got.way != 's');
    CHECK(got.way == 'p');
    CHECK(got.open_fds == "12 14");
}

TEST_CASE("without close_range and without /proc, every fd below the limit is closed", "[fd-closing]")
{
    Outcome got = run_in_child(true, "/nonexistent/fd", 3, 13);
    CHECK(got.way == 'l');
    CHECK(got.open_fds == "13");
    // A directory that is not procfs is not trusted to list the fds.
    got = run_in_child(true, "/", 3, 13);
    CHECK(got.way == 'l');
    CHECK(got.open_fds == "13");
}

TEST_CASE("fds below `lowest` stay open, whichever way closes the rest", "[fd-closing]")
{
    CHECK(run_in_child(false, "/proc/self/fd", 13).open_fds == "10 11 12");
    CHECK(run_in_child(true, "/proc/self/fd", 13).open_fds == "10 11 12");
    CHECK(run_in_child(true, "/nonexistent/fd", 13).open_fds == "10 11 12");
    // A kept fd that is also the first one, and one kept twice.
    CHECK(run_in_child(false, "/proc/self/fd", 10, 10, 10).open_fds == "10");
    CHECK(run_in_child(true, "/proc/self/fd", 10, 10, 10).open_fds == "10");
}
