// seccomp allow-lists, built with libseccomp: a policy is data (which syscalls, under
// which argument checks, and why), so the same table both builds the BPF program for
// the running architecture and is shown in docs/security.md (sandbox_policies.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace portwrap::seccomp_filter {

// One check on a syscall argument: (args[arg] & mask) == value.
struct ArgCheck {
    unsigned arg = 0;
    uint64_t mask = 0;
    uint64_t value = 0;
    const char* text = "";  // how the documentation shows it, e.g. "family AF_INET"
};

// A syscall the policy allows; with checks, only when all of them hold. Several
// rules may name the same syscall: any one of them allows it.
struct Rule {
    const char* syscall = "";  // libseccomp's name; one the architecture lacks is skipped
    std::vector<ArgCheck> checks;
    const char* reason = "";   // why the process needs it
};

struct Policy {
    const char* name = "";  // "the event loop", "the connector", ...
    std::vector<Rule> rules;
};

// Sets PR_SET_NO_NEW_PRIVS and loads `policy` into the calling thread: every syscall
// it does not allow fails with EPERM, and a syscall made under another ABI (i386's
// int 0x80, x32) kills the process. Returns false, with errno that of the step that
// failed, if it could not. Safe in a forked child of a single-threaded process (it
// allocates, takes no lock but malloc's).
bool load(const Policy& policy) noexcept;

// The same, throwing Error("cannot install the seccomp filter of <name>: ...").
void install(const Policy& policy);

// The policy as a Markdown table (syscalls | only when | why), a row per group of
// consecutive rules with the same checks and reason, for
// docs/security.md; the unit tests check that the document matches.
std::string markdown_table(const Policy& policy);

}  // namespace portwrap::seccomp_filter
