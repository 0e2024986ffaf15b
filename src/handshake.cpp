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

bool send_go(int socket, const std::string& environment) noexcept
{
    if (environment.size() > kMaxGoPayload) {
        errno = EMSGSIZE;
        return false;
    }
    std::string message(1, static_cast<char>(ToChild::Go));
    message += environment;
    ssize_t sent;
    do {
        sent = ::send(socket, message.data(), message.size(), MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == static_cast<ssize_t>(message.size());
}

bool send_to_parent(int socket, const ToParent& message, int fd_to_pass) noexcept
{
    return fd_passing::send(socket, &message, sizeof message, fd_to_pass) == sizeof message;
}

Received receive_from_parent(int socket, ToChild& message, std::string* payload) noexcept
{
    char buffer[1 + kMaxGoPayload];
    ssize_t got;
    do {
        got = ::recv(socket, buffer, sizeof buffer, 0);
    } while (got < 0 && errno == EINTR);
    if (got == 0)
        return Received::EndOfFile;
    if (got < 1)
        return Received::Error;
    static_assert(sizeof message == 1);
    std::memcpy(&message, buffer, 1);
    if (payload) {
        try {
            payload->assign(buffer + 1, static_cast<size_t>(got - 1));
        } catch (...) {
            return Received::Error;
        }
    }
    return Received::Message;
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
