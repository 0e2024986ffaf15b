// Linked into portwrap only in sanitizer builds (-Db_sanitize=..., scripts/test.sh's
// build-asan); see src/meson.build.
//
// LeakSanitizer's check at exit stops the process's threads from a helper thread that
// it starts with clone() and that attaches to them with ptrace(). Once the command
// runs, portwrap lives under its seccomp allow-list (sandbox.cpp), where clone, ptrace
// and prctl fail with EPERM: the check could only die with "LeakSanitizer has
// encountered a fatal error" and turn every run into a failure. So it is skipped in a
// process under a seccomp filter, and only there: portwrap's exits before the sandbox
// (usage errors, --help, failures while setting up) are still checked for leaks.
//
// The same attach fails in a copy started with elevated privileges (AT_SECURE: setgid,
// file capabilities) that lacks CAP_SYS_PTRACE: the kernel made it non-dumpable, and
// its real and effective ids differ. Such a copy only refuses to run
// (main.cpp) and allocates nothing, so there it is skipped too.
#include <linux/seccomp.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

extern "C" int __lsan_is_turned_off()
{
    if (getauxval(AT_SECURE) != 0)
        return 1;
    // 0 outside seccomp; under portwrap's filter prctl() itself is denied (-1, EPERM),
    // under another filter it answers SECCOMP_MODE_FILTER.
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0;
}
