#include "fd_closing.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstdint>

#include "unique_fd.h"

#ifndef SYS_close_range
#define SYS_close_range 436  // the same number on every architecture
#endif

namespace portwrap::fd_closing {
namespace {

// The fds to keep that are >= lowest, sorted and without repeats, in a fixed array:
// nothing here may allocate (it runs after fork()).
struct Kept {
    int fds[kMaxKept];
    int count = 0;

    Kept(int lowest, std::initializer_list<int> keep) noexcept
    {
        for (int fd : keep) {
            if (fd < lowest || count == kMaxKept || contains(fd))
                continue;
            int i = count++;
            for (; i > 0 && fds[i - 1] > fd; --i)
                fds[i] = fds[i - 1];
            fds[i] = fd;
        }
    }
    bool contains(int fd) const noexcept
    {
        for (int i = 0; i < count; ++i)
            if (fds[i] == fd)
                return true;
        return false;
    }
};

// close_range() over the gaps between the kept fds. False if the kernel refused it.
bool by_close_range(int lowest, const Kept& kept) noexcept
{
    auto from = static_cast<unsigned>(lowest);
    for (int i = 0; i < kept.count; ++i) {
        const auto fd = static_cast<unsigned>(kept.fds[i]);
        if (fd > from && ::syscall(SYS_close_range, from, fd - 1, 0u) != 0)
            return false;
        from = fd + 1;
    }
    return ::syscall(SYS_close_range, from, ~0u, 0u) == 0;
}

// Parses a /proc/self/fd entry name; -1 for "." and "..".
int fd_number(const char* name) noexcept
{
    if (*name < '0' || *name > '9')
        return -1;
    long value = 0;
    for (; *name >= '0' && *name <= '9'; ++name)
        if ((value = value * 10 + (*name - '0')) > INT_MAX)
            return -1;
    return *name == '\0' ? static_cast<int>(value) : -1;
}

// Closes the fds /proc/self/fd lists, read with getdents64 into a buffer on the stack
// (opendir() would allocate). Closing while listing is fine: the kernel lists the fd
// table from the position reached, by fd number. False if the directory is not there
// or is not procfs (a helper in a namespace may have no /proc, or a foreign one).
bool by_proc_fd(const char* dir, int lowest, const Kept& kept) noexcept
{
    const UniqueFd listing(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing)
        return false;
    const int dir_fd = listing.get();
    struct statfs fs {};
    if (::fstatfs(dir_fd, &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC)
        return false;
    alignas(8) char buffer[4096];
    for (;;) {
        const long got = ::syscall(SYS_getdents64, dir_fd, buffer, sizeof buffer);
        if (got < 0)
            return false;  // the loop below closes what is left
        if (got == 0)
            break;
        for (long at = 0; at < got;) {
            // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, name.
            const char* entry = buffer + at;
            unsigned short length;
            __builtin_memcpy(&length, entry + 16, sizeof length);
            const int fd = fd_number(entry + 19);
            if (fd >= lowest && fd != dir_fd && !kept.contains(fd))
                ::close(fd);
            at += length;
        }
    }
    return true;
}

// The last resort: close() on every fd below the soft open-file limit. portwrap never
// lowers that limit, so no fd of its own lies above it.
void by_loop(int lowest, const Kept& kept) noexcept
{
    rlimit limit{};
    rlim_t end = 65536;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        end = limit.rlim_cur;
    if (end > static_cast<rlim_t>(INT_MAX))
        end = INT_MAX;
    for (int fd = lowest; static_cast<rlim_t>(fd) < end; ++fd)
        if (!kept.contains(fd))
            ::close(fd);
}

testing::Way close_all(const char* proc_fd_dir, int lowest, std::initializer_list<int> keep) noexcept
{
    if (lowest < 0)
        lowest = 0;
    const Kept kept(lowest, keep);
    if (by_close_range(lowest, kept))
        return testing::Way::CloseRange;
    if (by_proc_fd(proc_fd_dir, lowest, kept))
        return testing::Way::ProcFd;
    by_loop(lowest, kept);
    return testing::Way::Loop;
}

}  // namespace

void close_fds_except(int lowest, std::initializer_list<int> keep) noexcept
{
    close_all("/proc/self/fd", lowest, keep);
}

testing::Way testing::close_fds_except(const char* proc_fd_dir, int lowest, std::initializer_list<int> keep) noexcept
{
    return close_all(proc_fd_dir, lowest, keep);
}

}  // namespace portwrap::fd_closing
