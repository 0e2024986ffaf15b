// Linked into portwrap only in coverage builds (-Db_coverage=true: scripts/test.sh's
// build-cov); see src/meson.build and docs/testing.md.
//
// gcov writes a process's counters when it returns from main() or calls exit(). The
// helper processes (connector, clean-up, the --pid-ns init, the child before the
// command) end with _exit() or execvp() and would leave nothing behind: the linker
// sends portwrap's own calls of those two here (-Wl,--wrap=...), which write the
// counters first. glibc's internal calls are not wrapped.
#include <unistd.h>

extern "C" {
void __gcov_dump();
void __gcov_reset();
[[noreturn]] void __real__exit(int status);
int __real_execvp(const char* file, char* const argv[]);

[[noreturn]] void __wrap__exit(int status)
{
    __gcov_dump();
    __real__exit(status);
}

int __wrap_execvp(const char* file, char* const argv[])
{
    __gcov_dump();
    const int result = __real_execvp(file, argv);
    // Still here: the exec failed. Count from zero again, so that the dump at the
    // process's end adds what runs from now on (a second dump adds nothing otherwise).
    __gcov_reset();
    return result;
}
}
