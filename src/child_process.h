// ChildProcess: owns the pid of the namespaced child. If portwrap unwinds before the
// child has been reaped, the destructor kills and reaps it, so nothing is left behind.
#pragma once

#include <sys/types.h>

#include <optional>

namespace portwrap {

class ChildProcess {
public:
    explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const noexcept { return pid_; }

    // Sends signo to the child unless it has been reaped. Returns false if kill() failed.
    bool signal(int signo) noexcept;

    // Reaps the child if it has ended: its wait status, or nothing if it still runs.
    std::optional<int> try_wait();
    // Blocks until the child ends; returns its wait status.
    int wait();

private:
    pid_t pid_;
};

}  // namespace portwrap
