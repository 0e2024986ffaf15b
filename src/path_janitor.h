// PathJanitor: removes the files portwrap created on the host (Unix sockets of
// forwards, the --port-file) when portwrap ends, however it ends.
//
// Once portwrap is sandboxed it can no longer unlink anything, and a SIGKILL would
// skip any clean-up of its own. So a small forked process holds the read end of a
// pipe; when portwrap exits or dies, the pipe reaches end-of-file and the janitor
// removes each path that is still the very file portwrap made (same device and
// inode), then exits. portwrap also tells it to remove them at once (remove_now())
// when it is asked to stop: a batch scheduler's SIGKILL may follow within
// milliseconds and end the janitor too (docs/design.md, "Files portwrap creates").
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "unique_fd.h"

namespace portwrap {

class PathJanitor {
public:
    PathJanitor() = default;
    ~PathJanitor();  // finish(); if never started, removes the paths itself
    PathJanitor(const PathJanitor&) = delete;
    PathJanitor& operator=(const PathJanitor&) = delete;

    // Remembers `path` as it is now (it must exist). Before start() only.
    void add(const std::string& path);
    // Forks the janitor if there is anything to remove. Throws Error.
    void start();
    // Has the janitor remove the paths now (one byte over the pipe); it stays until
    // finish(). Async-signal-safe and allowed in the sandbox (a write()). Idempotent.
    void remove_now() noexcept;
    // Ends the janitor and waits until it has removed the paths.
    void finish() noexcept;

private:
    struct Entry {
        std::string path;
        dev_t device;
        ino_t inode;
    };
    [[noreturn]] static void serve(int wake_fd, const std::vector<Entry>& entries) noexcept;

    std::vector<Entry> entries_;
    UniqueFd wake_;  // write end: closing it (or dying) wakes the janitor
    pid_t pid_ = 0;
    bool started_ = false;
    bool removal_requested_ = false;
};

}  // namespace portwrap
