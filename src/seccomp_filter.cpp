#include "seccomp_filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "error.h"

namespace portwrap::seccomp_filter {
namespace {

// Owns a libseccomp context.
class Context {
public:
    Context() noexcept : ctx_(seccomp_init(SCMP_ACT_ERRNO(EPERM))) {}
    ~Context()
    {
        if (ctx_)
            seccomp_release(ctx_);
    }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    scmp_filter_ctx get() const noexcept { return ctx_; }

private:
    scmp_filter_ctx ctx_;
};

int add_rule(scmp_filter_ctx ctx, const Rule& rule) noexcept
{
    const int nr = seccomp_syscall_resolve_name(rule.syscall);
    if (nr == __NR_SCMP_ERROR)
        return EINVAL;  // a name libseccomp does not know: a typo in the policy
    if (nr < 0)
        return 0;  // a syscall this architecture does not have (poll on aarch64)
    scmp_arg_cmp checks[6];
    unsigned count = 0;
    for (const ArgCheck& check : rule.checks) {
        if (count == 6)
            return EINVAL;
        checks[count++] = SCMP_CMP(check.arg, SCMP_CMP_MASKED_EQ, check.mask, check.value);
    }
    const int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, count, checks);
    return rc < 0 ? -rc : 0;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Test builds with AddressSanitizer only: its runtime maps memory, reads the
// alternate signal stack and the thread id, and writes its reports, in any process.
// Added to every filter, except for syscalls the policy already rules on, and never
// part of the documented tables (they describe the release build).
const Rule kSanitizerRuntime[] = {
    {"mmap", {{2, PROT_EXEC, 0, ""}}, ""},
    {"munmap", {}, ""},
    {"madvise", {}, ""},
    {"sigaltstack", {}, ""},
    {"gettid", {}, ""},
    {"getpid", {}, ""},
    {"write", {}, ""},
    {"futex", {}, ""},
    {"sched_yield", {}, ""},
};

// Coverage builds only (-Db_coverage=true, never shipped): gcov writes each
// process's counters at exit, the helpers' too (coverage_hooks.cpp), so every filter
// lets it open, lock and write its files. Added whatever the policy says.
#ifdef PORTWRAP_COVERAGE
constexpr bool kCoverage = true;
#else
constexpr bool kCoverage = false;
#endif
const Rule kCoverageRuntime[] = {
    {"openat", {}, ""}, {"open", {}, ""},      {"close", {}, ""},      {"read", {}, ""},
    {"write", {}, ""},  {"fcntl", {}, ""},     {"lseek", {}, ""},      {"mkdir", {}, ""},
    {"mkdirat", {}, ""}, {"newfstatat", {}, ""}, {"fstat", {}, ""},    {"ftruncate", {}, ""},
    {"getpid", {}, ""}, {"brk", {}, ""},       {"munmap", {}, ""},     {"access", {}, ""},
    {"faccessat", {}, ""}, {"faccessat2", {}, ""}, {"readlink", {}, ""},
    {"mmap", {{2, PROT_EXEC, 0, ""}}, ""},
};

bool names(const Policy& policy, const char* syscall) noexcept
{
    for (const Rule& rule : policy.rules)
        if (std::strcmp(rule.syscall, syscall) == 0)
            return true;
    return false;
}

// load()'s steps: 0, or the errno of the one that failed (kept apart from errno,
// which freeing the context may change).
int load_steps(const Policy& policy) noexcept
{
    // Required for an unprivileged seccomp filter, and by itself it stops setuid
    // programs from gaining privileges through this process.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return errno;
    Context context;
    if (!context.get())
        return ENOMEM;
    // libseccomp's filter already covers the native ABI only, and sends x32 calls on
    // x86_64 to the bad-arch action: make that end the whole process.
    int rc = seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc < 0)
        return -rc;
    for (const Rule& rule : policy.rules)
        if (int err = add_rule(context.get(), rule); err != 0)
            return err;
    if (kSanitized)
        for (const Rule& rule : kSanitizerRuntime)
            if (!names(policy, rule.syscall))
                if (int err = add_rule(context.get(), rule); err != 0)
                    return err;
    if (kCoverage)
        for (const Rule& rule : kCoverageRuntime)
            if (std::strcmp(rule.syscall, "mmap") != 0 || !names(policy, rule.syscall))
                if (int err = add_rule(context.get(), rule); err != 0)
                    return err;
    rc = seccomp_load(context.get());
    return rc < 0 ? -rc : 0;
}

}  // namespace

bool load(const Policy& policy) noexcept
{
    const int err = load_steps(policy);
    errno = err;
    return err == 0;
}

void install(const Policy& policy)
{
    if (const int err = load_steps(policy); err != 0)
        throw_errno(std::string("cannot install the seccomp filter of ") + policy.name, err);
}

std::string markdown_table(const Policy& policy)
{
    // Consecutive rules with the same checks and the same reason share a row.
    std::string table = "| syscalls | only when | why |\n| --- | --- | --- |\n";
    std::string names, row_when, row_reason;
    auto flush = [&] {
        if (!names.empty())
            table += "| " + names + " | " + row_when + " | " + row_reason + " |\n";
        names.clear();
    };
    for (const Rule& rule : policy.rules) {
        std::string when;
        for (const ArgCheck& check : rule.checks)
            when += (when.empty() ? "" : ", ") + std::string(check.text);
        if (when.empty())
            when = "always";
        if (names.empty() || when != row_when || rule.reason != row_reason) {
            flush();
            row_when = when;
            row_reason = rule.reason;
        }
        const std::string name = std::string("`") + rule.syscall + "`";
        if (names.find(name) == std::string::npos)
            names += (names.empty() ? "" : ", ") + name;
    }
    flush();
    return table;
}

}  // namespace portwrap::seccomp_filter
