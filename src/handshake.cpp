#include "handshake.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

#include "fd_passing.h"

namespace portwrap::handshake {

static_assert(std::is_trivially_copyable_v<ToParent>);

ToParent ToParent::make(ToParentKind kind, int exit_status, const std::string& text) noexcept
{
    ToParent message;
    message.kind = kind;
    message.exit_status = exit_status;
    size_t length = std::min(text.size(), sizeof message.text - 1);
    std::memcpy(message.text, text.data(), length);
    message.text[length] = '\0';
    return message;
}

bool send_to_child(int socket, ToChild message) noexcept
{
    ssize_t sent;
    do {
        sent = ::send(socket, &message, sizeof message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == sizeof message;
}

bool send_to_parent(int socket, const ToParent& message, int fd_to_pass) noexcept
{
    return fd_passing::send(socket, &message, sizeof message, fd_to_pass) == sizeof message;
}

Received receive_from_parent(int socket, ToChild& message) noexcept
{
    ssize_t got;
    do {
        got = ::recv(socket, &message, sizeof message, 0);
    } while (got < 0 && errno == EINTR);
    if (got == 0)
        return Received::EndOfFile;
    return got == sizeof message ? Received::Message : Received::Error;
}

Received receive_from_child(int socket, ToParent& message, UniqueFd& passed_fd) noexcept
{
    ssize_t got = fd_passing::receive(socket, &message, sizeof message, passed_fd);
    if (got == 0)
        return Received::EndOfFile;
    if (got < 0)
        return Received::Error;
    if (got != sizeof message) {
        errno = EBADMSG;
        return Received::Error;
    }
    message.text[sizeof message.text - 1] = '\0';
    return Received::Message;
}

}  // namespace portwrap::handshake
