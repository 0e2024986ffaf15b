#include "fd_pair.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace portwrap {

PipeEnds make_pipe(int flags) noexcept
{
    int fds[2];
    if (::pipe2(fds, flags) != 0)
        return {};
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

SocketPair make_socket_pair(int type) noexcept
{
    int fds[2];
    if (::socketpair(AF_UNIX, type, 0, fds) != 0)
        return {};
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace portwrap
