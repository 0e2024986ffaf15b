// Writes the child's uid_map and gid_map: through newuidmap/newgidmap when the user
// has subordinate ranges, otherwise a single-id map written by portwrap itself.
#pragma once

#include <sys/types.h>

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

// Reads /etc/passwd, /etc/subuid, /etc/subgid and $PATH; never calls NSS.
Plan make_plan(bool map_root);

// Applies the plan to the freshly cloned process `pid`. Throws Error; when a helper
// fails, the message carries its exit status and what it printed.
void apply(const Plan& plan, pid_t pid);

// Where make_plan looks for newuidmap/newgidmap: $PATH, or a standard list when unset.
std::string helper_search_path();

// The first executable `name` in the colon-separated `search_path`, or "".
std::string find_in_path(const std::string& name, const std::string& search_path);

}  // namespace portwrap::id_map
