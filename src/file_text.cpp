#include "file_text.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "unique_fd.h"

namespace portwrap::file_text {

std::optional<std::string> read_fd(int fd, size_t limit)
{
    std::string text;
    char buffer[4096];
    while (text.size() < limit) {
        const size_t want = std::min(sizeof buffer, limit - text.size());
        const ssize_t got = ::read(fd, buffer, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return std::nullopt;
        if (got == 0)
            break;
        text.append(buffer, static_cast<size_t>(got));
    }
    return text;
}

std::optional<std::string> read(const std::string& path, size_t limit, int flags)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags));
    if (!fd)
        return std::nullopt;
    auto text = read_fd(fd.get(), limit);
    const int err = errno;
    fd.reset();
    errno = err;
    return text;
}

}  // namespace portwrap::file_text
