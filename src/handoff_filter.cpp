#include "handoff_filter.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.h"

namespace portwrap::handoff_filter {
namespace {

// NOTIF_ADDFD with ADDFD_FLAG_SETFD (5.9) is the newest piece the driver needs;
// user notification (5.0), FLAG_CONTINUE (5.5) and pidfd_getfd (5.6) are older.
constexpr int kNeededMajor = 5, kNeededMinor = 9;

bool kernel_at_least(const char* release, int major, int minor)
{
    int have_major = 0, have_minor = 0;
    if (std::sscanf(release, "%d.%d", &have_major, &have_minor) != 2)
        return false;
    return have_major > major || (have_major == major && have_minor >= minor);
}

struct FilterContext {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    ~FilterContext() { seccomp_release(ctx); }
};

}  // namespace

std::optional<std::string> unsupported_reason()
{
    const char* knob = std::getenv("PORTWRAP_TEST_NO_HANDOFF");
    if (knob && std::strcmp(knob, "1") == 0)
        return "PORTWRAP_TEST_NO_HANDOFF=1 makes it unavailable";
    utsname name{};
    if (::uname(&name) != 0 || !kernel_at_least(name.release, kNeededMajor, kNeededMinor))
        return std::string("Linux ") + name.release + " is older than 5.9, which SECCOMP_IOCTL_NOTIF_ADDFD needs";
    uint32_t action = SECCOMP_RET_USER_NOTIF;
    if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0)
        return describe_errno("seccomp user notification is unavailable", errno);
    // pidfd_getfd(-1, ...) fails with EBADF where the call exists, ENOSYS where not
    // (or where a filter, a container runtime's, hides it).
    if (::syscall(SYS_pidfd_getfd, -1, 0, 0) == 0 || errno == ENOSYS || errno == EPERM)
        return describe_errno("pidfd_getfd is unavailable", errno == 0 ? ENOSYS : errno);
    if (seccomp_api_get() < 5)
        return "libseccomp finds no user notification in this kernel";
    return std::nullopt;
}

std::vector<sock_filter> build()
{
    FilterContext filter;
    if (!filter.ctx)
        throw Error("cannot build the handoff seccomp filter: seccomp_init failed");
    // A syscall made under another ABI (an i386 program's socketcall) is allowed:
    // its bind then happens inside, untouched. The filter guards nothing; it only
    // lets portwrap see the binds it can serve.
    int rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
    if (rc == 0)
        rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_CTL_NNP, 0);  // setuid programs inside keep working
    if (rc == 0)
        rc = seccomp_rule_add(filter.ctx, SCMP_ACT_NOTIFY, SCMP_SYS(bind), 0);
    if (rc != 0)
        throw_errno("cannot build the handoff seccomp filter", -rc);
    // libseccomp 2.5 exports to a file descriptor only: a memfd, read back whole.
    UniqueFd memory(static_cast<int>(::syscall(SYS_memfd_create, "portwrap-filter", MFD_CLOEXEC)));
    if (!memory)
        throw_errno("cannot create a memfd for the handoff seccomp filter");
    rc = seccomp_export_bpf(filter.ctx, memory.get());
    if (rc != 0)
        throw_errno("cannot export the handoff seccomp filter", -rc);
    const off_t size = ::lseek(memory.get(), 0, SEEK_END);
    if (size <= 0 || size % sizeof(sock_filter) != 0)
        throw Error("cannot export the handoff seccomp filter: libseccomp wrote " + std::to_string(size) + " bytes");
    std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(memory.get(), program.data(), static_cast<size_t>(size), 0) != size)
        throw_errno("cannot read back the handoff seccomp filter");
    return program;
}

int install(const std::vector<sock_filter>& program) noexcept
{
    sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
    return static_cast<int>(
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
}

}  // namespace portwrap::handoff_filter
