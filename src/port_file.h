// The --port-file: each forward's host side, one per line, written whole (a temporary
// file renamed over the path) and locked (flock, exclusive) by portwrap for as long as
// it runs. The lock is the file's proof of life: the kernel drops it when portwrap
// dies, even of a SIGKILL that leaves no time to remove the file, so a reader (and the
// next portwrap) can tell a live file from a stale one. See docs/design.md, "Files
// portwrap creates".
#pragma once

#include <string>
#include <vector>

#include "unique_fd.h"

namespace portwrap::port_file {

// Before anything else at start-up: removes a port file at `path` that no running
// portwrap holds (a killed run's), so that neither a failed start nor a slow one
// leaves the old address there for a reader to take. Throws Error if a running
// portwrap holds it: two runs must not share one port file.
void remove_stale(const std::string& path);

// Writes the lines to `path` and returns the fd that holds its lock: keep it open
// until portwrap exits. Throws Error.
UniqueFd write(const std::string& path, const std::vector<std::string>& lines);

}  // namespace portwrap::port_file
