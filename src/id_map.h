// Writes the child's uid_map and gid_map: through newuidmap/newgidmap when the user
// has subordinate ranges, otherwise a single-id map written by portwrap itself.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "subid.h"

namespace portwrap::id_map {

struct Plan {
    std::vector<subid::MapLine> uid_lines;
    std::vector<subid::MapLine> gid_lines;
    std::string newuidmap;  // full paths; empty when the single-id map is used
    std::string newgidmap;
    std::string reason;     // why this kind of map was chosen (for -v)
};

// Reads /etc/passwd, /etc/subuid and /etc/subgid; never calls NSS.
Plan make_plan(bool map_root);

// Applies the plan to the freshly cloned process `pid`. Throws Error; when a helper
// fails, the message carries its exit status and what it printed.
void apply(const Plan& plan, pid_t pid);

// newuidmap or newgidmap as portwrap finds it.
struct HelperFacts {
    std::string path;  // empty: in none of kHelperDirectories
    bool setuid_root = false;
    bool file_capabilities = false;  // a security.capability xattr (Fedora ships them so)
    bool nosuid_mount = false;
    bool root_owned = false;  // a regular file of root's that no one else may write
};

// Where newuidmap/newgidmap are looked for, in this order; never $PATH, where a file
// the user (or whoever can write a directory in their PATH) planted would run with the
// user's subordinate ids at every launch. /usr/local is left out too: it is often
// writable by a group (Debian's staff).
inline constexpr const char* kHelperDirectories[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin"};
inline constexpr const char* kHelperDirectoriesText = "/usr/bin, /bin, /usr/sbin or /sbin";

// stat() and the xattr of `path` (empty: nothing found).
HelperFacts inspect_helper(const std::string& path);

// The first `name` in `directories` that helper_problem accepts for `uid`; else the
// first one there is; else one with an empty path.
HelperFacts find_helper(const std::string& name, uid_t uid,
                        std::span<const char* const> directories = kHelperDirectories);

// The one judgement of a helper, shared by make_plan and --check: "" when portwrap
// runs it for `uid`, else what is wrong ("not found in ...", "is neither setuid root
// nor has file capabilities", ...). It must be root's and writable by root alone, and
// able to raise privileges (setuid root or file capabilities, not on a nosuid mount)
// unless uid is root, who needs no raising.
std::string helper_problem(const HelperFacts& helper, uid_t uid);

}  // namespace portwrap::id_map
