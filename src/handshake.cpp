#include "handshake.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

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
    iovec payload{const_cast<ToParent*>(&message), sizeof message};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr header{};
    header.msg_iov = &payload;
    header.msg_iovlen = 1;
    if (fd_to_pass >= 0) {
        header.msg_control = control;
        header.msg_controllen = sizeof control;
        cmsghdr* rights = CMSG_FIRSTHDR(&header);
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(rights), &fd_to_pass, sizeof fd_to_pass);
    }
    ssize_t sent;
    do {
        sent = ::sendmsg(socket, &header, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == sizeof message;
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
    iovec payload{&message, sizeof message};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr header{};
    header.msg_iov = &payload;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    ssize_t got;
    do {
        got = ::recvmsg(socket, &header, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got == 0)
        return Received::EndOfFile;
    if (got < 0)
        return Received::Error;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            passed_fd.reset(fd);
        }
    }
    if (got != sizeof message || (header.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        errno = EBADMSG;
        return Received::Error;
    }
    message.text[sizeof message.text - 1] = '\0';
    return Received::Message;
}

}  // namespace portwrap::handshake
