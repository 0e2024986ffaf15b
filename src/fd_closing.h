// Closing every inherited fd but a few, in a process portwrap forks as a helper (the
// connector, the --pid-ns init, the clean-up process): a listening socket or the
// handshake socket left open there would outlive portwrap's own close() of it.
#pragma once

#include <initializer_list>

namespace portwrap::fd_closing {

// Closes every fd from `lowest` up, except those in `keep` (at most kMaxKept of them).
// Safe between fork() and exec()/_exit() of a multithreaded parent: it allocates
// nothing and takes no lock, only system calls. Tries close_range() (Linux 5.9); where
// that fails (ENOSYS on RHEL 8's 4.18, a seccomp filter) it closes what /proc/self/fd
// lists, and where /proc is not usable either, every fd below the open-file limit.
inline constexpr int kMaxKept = 8;
void close_fds_except(int lowest, std::initializer_list<int> keep) noexcept;

// For the unit tests: close_fds_except with the /proc directory to list given, and
// which of the three ways did the work.
namespace testing {
enum class Way { CloseRange, ProcFd, Loop };
Way close_fds_except(const char* proc_fd_dir, int lowest, std::initializer_list<int> keep) noexcept;
}  // namespace testing

}  // namespace portwrap::fd_closing
