// One message plus, optionally, one file descriptor (SCM_RIGHTS) on a local socket.
// The handshake and the connector both speak this way.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "unique_fd.h"

namespace portwrap::fd_passing {

// Sends `size` bytes and, if fd >= 0, a copy of fd. Returns bytes sent or -1 (errno).
ssize_t send(int socket, const void* data, size_t size, int fd) noexcept;

// Receives one message of up to `size` bytes; a passed fd lands in `passed_fd`
// (close-on-exec). Returns bytes received, 0 at end-of-file, -1 on error (errno;
// EBADMSG when the message or its control data was truncated).
ssize_t receive(int socket, void* data, size_t size, UniqueFd& passed_fd) noexcept;

}  // namespace portwrap::fd_passing
