// What every fuzz target's oracle uses: FUZZ_ORACLE marks its checks, FUZZ_CHECK
// reports a broken invariant (naming the target and the condition) and aborts, which
// libFuzzer records as a crash with its input.
#pragma once

#include <cstdio>
#include <cstdlib>

// The checks are the oracle, not the code under test: no coverage feedback from them
// (it would only make libFuzzer keep inputs that differ in what the checks did).
#define FUZZ_ORACLE __attribute__((no_sanitize("coverage")))

// `target` is the harness's name, as in "fuzz_cli: invariant violated: …".
[[noreturn]] inline void fuzz_violated(const char* target, const char* what)
{
    std::fprintf(stderr, "%s: invariant violated: %s\n", target, what);
    std::abort();
}

#define FUZZ_CHECK(cond)                          \
    do {                                          \
        if (!(cond))                              \
            fuzz_violated(kFuzzTarget, #cond);    \
    } while (0)
