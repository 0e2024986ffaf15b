#include "sandbox_policies.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

namespace portwrap::sandbox_policies {
namespace {

using seccomp_filter::ArgCheck;
using seccomp_filter::Policy;
using seccomp_filter::Rule;

// socket(family, type, protocol): the low bits of type are the socket type; the
// rest are SOCK_NONBLOCK and SOCK_CLOEXEC, which may be set.
constexpr uint64_t kSocketTypeMask = 0xf;
const ArgCheck kInet{0, ~uint64_t{0}, AF_INET, "family `AF_INET`"};
const ArgCheck kInet6{0, ~uint64_t{0}, AF_INET6, "family `AF_INET6`"};
const ArgCheck kStream{1, kSocketTypeMask, SOCK_STREAM, "type `SOCK_STREAM`"};
const ArgCheck kDgram{1, kSocketTypeMask, SOCK_DGRAM, "type `SOCK_DGRAM`"};

// TCP and UDP sockets of both families: four rules, any of which allows socket().
std::vector<Rule> inet_sockets(const char* reason)
{
    return {{"socket", {kInet, kStream}, reason},
            {"socket", {kInet, kDgram}, reason},
            {"socket", {kInet6, kStream}, reason},
            {"socket", {kInet6, kDgram}, reason}};
}

// openat(dirfd, path, flags, mode) for reading only: no write access, no creating
// or truncating. (O_TMPFILE includes O_DIRECTORY's bit, which reading /proc needs:
// take only its own.)
constexpr uint64_t kOpenatWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY);

// How a process ends, and the kernel's own returns from signal handlers and
// interrupted sleeps: every policy has them.
void add_process_basics(std::vector<Rule>& rules)
{
    rules.push_back({"exit", {}, "a thread ends"});
    rules.push_back({"exit_group", {}, "the process ends (`_exit`)"});
    rules.push_back({"rt_sigreturn", {}, "the return from a signal handler"});
    rules.push_back({"restart_syscall", {}, "the kernel restarts a sleep a stop signal interrupted"});
}

Policy make_event_loop()
{
    Policy policy{"the event loop", {}};
    auto& r = policy.rules;
    const char* io = "the poll loop: the TAP fd, sockets, the relay's pipes, the signalfd";
    for (const char* name : {"poll", "ppoll"})
        r.push_back({name, {}, "the poll loop waits on every fd"});
    for (const char* name : {"read", "write", "readv", "writev"})
        r.push_back({name, {}, io});
    for (const char* name : {"recvfrom", "sendto", "recvmsg", "sendmsg"})
        r.push_back({name, {}, "libslirp's sockets; the connector's and the control socket's messages"});
    for (const char* name : {"accept", "accept4"})
        r.push_back({name, {}, "clients of the forwards' listeners and of the control socket"});
    for (Rule& rule : inet_sockets("libslirp's outbound sockets; listeners of forwards added with `ctl add`"))
        r.push_back(std::move(rule));
    r.push_back({"connect", {},
                 "libslirp's outbound connections (the only sockets the loop can create are TCP and UDP over IPv4/IPv6)"});
    for (const char* name : {"bind", "listen"})
        r.push_back({name, {}, "listeners of forwards added with `ctl add`; libslirp's UDP sockets"});
    for (const char* name : {"shutdown", "close", "setsockopt", "getsockopt", "getsockname", "getpeername"})
        r.push_back({name, {}, "socket handling by libslirp and the relay"});
    r.push_back({"fcntl", {}, "making fds non-blocking"});
    for (const char* name : {"pipe2", "splice"})
        r.push_back({name, {}, "the relay port driver: a pipe per direction, `splice` through it"});
    for (const char* name : {"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait"})
        r.push_back({name, {}, "the relay's epoll set (one more for a forward added with `ctl add`)"});
    r.push_back({"kill", {}, "signals forwarded to the command; the leftover sweep"});
    for (const char* name : {"wait4", "waitid"})
        r.push_back({name, {}, "reaping the command, the connector, orphans"});
    r.push_back({"rt_sigprocmask", {}, "the C runtime; glib"});
    r.push_back({"openat", {{2, kOpenatWriteFlags, 0, "flags without `O_WRONLY`, `O_RDWR`, `O_CREAT`, `O_TRUNC`, `O_APPEND`, `O_TMPFILE`"}},
                 "libslirp re-reads `/etc/resolv.conf`; the leftover sweep reads `/proc`"});
    for (const char* name : {"newfstatat", "fstat", "lseek", "getdents64"})
        r.push_back({name, {}, "reading those files and directories"});
    r.push_back({"ioctl", {{1, 0xffffffff, FIONREAD, "request `FIONREAD`"}},
                 "libslirp sizes UDP datagrams with it (terminal requests such as `TIOCSTI` stay refused)"});
    for (const char* name : {"mmap", "mprotect"})
        r.push_back({name, {{2, PROT_EXEC, 0, "protection without `PROT_EXEC`"}},
                     "memory for the C runtime; nothing executable is mapped after set-up"});
    for (const char* name : {"brk", "munmap", "mremap", "madvise", "futex"})
        r.push_back({name, {}, "memory and locks of the C runtime"});
    for (const char* name : {"getpid", "gettid", "getrandom", "clock_gettime", "gettimeofday"})
        r.push_back({name, {}, "glib and libslirp: ids, random TCP sequence numbers, time"});
    for (const char* name : {"clock_nanosleep", "nanosleep", "sched_yield"})
        r.push_back({name, {}, "short waits of the C runtime and of the leftover sweep"});
    r.push_back({"sigaltstack", {}, "AddressSanitizer reads it when a C++ exception is thrown"});
    add_process_basics(r);
    return policy;
}

Policy make_handoff_additions()
{
    Policy policy{"the handoff driver's additions to the event loop", {}};
    auto& r = policy.rules;
    r.push_back({"pidfd_open", {}, "a pidfd of the process whose `bind()` portwrap answers (the kernel allows only processes portwrap may ptrace)"});
    r.push_back({"pidfd_getfd", {}, "a copy of that process's socket, to learn its type and flags"});
    r.push_back({"process_vm_readv", {}, "reads the address that process passes to `bind()` (only its port is used)"});
    // ID_VALID has had two numbers; kernels accept the one they were built with.
    const char* listener = "the seccomp listener: receive a `bind()`, check it is still pending, install the host socket, answer";
    r.push_back({"ioctl", {{1, 0xffffffff, static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_RECV), "request `SECCOMP_IOCTL_NOTIF_RECV`"}}, listener});
    r.push_back({"ioctl", {{1, 0xffffffff, static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_SEND), "request `SECCOMP_IOCTL_NOTIF_SEND`"}}, listener});
    r.push_back({"ioctl", {{1, 0xffffffff, static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_ID_VALID), "request `SECCOMP_IOCTL_NOTIF_ID_VALID`"}}, listener});
    r.push_back({"ioctl", {{1, 0xffffffff, static_cast<uint32_t>(SECCOMP_IOR(2, __u64)), "request `SECCOMP_IOCTL_NOTIF_ID_VALID` (its number before Linux 5.17)"}}, listener});
    r.push_back({"ioctl", {{1, 0xffffffff, static_cast<uint32_t>(SECCOMP_IOCTL_NOTIF_ADDFD), "request `SECCOMP_IOCTL_NOTIF_ADDFD`"}}, listener});
    return policy;
}

Policy make_connector()
{
    Policy policy{"the connector", {}};
    auto& r = policy.rules;
    r.push_back({"recvfrom", {}, "reads a request from portwrap"});
    for (Rule& rule : inet_sockets("the socket it connects to the guest port"))
        r.push_back(std::move(rule));
    r.push_back({"setsockopt",
                 {{1, ~uint64_t{0}, IPPROTO_TCP, "level `IPPROTO_TCP`"}, {2, ~uint64_t{0}, TCP_NODELAY, "option `TCP_NODELAY`"}},
                 "turns Nagle off on the relayed connection"});
    r.push_back({"connect", {}, "connects to the guest port"});
    r.push_back({"sendmsg", {}, "passes the reply and the socket to portwrap"});
    r.push_back({"close", {}, "drops its copy of the passed socket"});
    add_process_basics(r);
    return policy;
}

Policy make_janitor()
{
    Policy policy{"the clean-up process", {}};
    auto& r = policy.rules;
    r.push_back({"read", {}, "waits for end-of-file on its pipe from portwrap"});
    for (const char* name : {"newfstatat", "lstat"})
        r.push_back({name, {}, "checks that a path is still the file portwrap made"});
    for (const char* name : {"unlink", "unlinkat"})
        r.push_back({name, {}, "removes it"});
    add_process_basics(r);
    return policy;
}

Policy make_pid_ns_init()
{
    Policy policy{"the --pid-ns init", {}};
    auto& r = policy.rules;
    r.push_back({"rt_sigtimedwait", {}, "waits for signals (`sigwaitinfo`, `sigtimedwait`)"});
    r.push_back({"kill", {}, "passes signals on to the command; ends what is left"});
    r.push_back({"wait4", {}, "reaps its children"});
    r.push_back({"clock_gettime", {}, "the grace period for what is left"});
    add_process_basics(r);
    return policy;
}

}  // namespace

const Policy& event_loop()
{
    static const Policy policy = make_event_loop();
    return policy;
}

const Policy& handoff_additions()
{
    static const Policy policy = make_handoff_additions();
    return policy;
}

const Policy& event_loop_with_handoff()
{
    static const Policy policy = [] {
        Policy combined = make_event_loop();
        combined.name = "the event loop with the handoff driver";
        for (const seccomp_filter::Rule& rule : handoff_additions().rules)
            combined.rules.push_back(rule);
        return combined;
    }();
    return policy;
}

const Policy& connector()
{
    static const Policy policy = make_connector();
    return policy;
}

const Policy& janitor()
{
    static const Policy policy = make_janitor();
    return policy;
}

const Policy& pid_ns_init()
{
    static const Policy policy = make_pid_ns_init();
    return policy;
}

}  // namespace portwrap::sandbox_policies
