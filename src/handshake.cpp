#include "handshake.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

#include "fd_passing.h"

namespace portwrap::handshake {

static_assert(std::is_trivially_copyable_v<ToParent>);

namespace {

void copy_detail(ToParent& message, const std::string& detail) noexcept
{
    size_t length = std::min(detail.size(), sizeof message.detail - 1);
    std::memcpy(message.detail, detail.data(), length);
    message.detail[length] = '\0';
}

// The most an errno can be (the kernel's MAX_ERRNO).
constexpr int32_t kMaxErrno = 4095;

bool valid(const ToParent& message) noexcept
{
    uint32_t kind = 0, stage = 0;
    static_assert(sizeof kind == sizeof message.kind && sizeof stage == sizeof message.stage);
    std::memcpy(&kind, &message.kind, sizeof kind);
    std::memcpy(&stage, &message.stage, sizeof stage);
    switch (static_cast<ToParentKind>(kind)) {
    case ToParentKind::Ready:
    case ToParentKind::Listener:
    case ToParentKind::HandoffListener:
        return true;
    case ToParentKind::Failed:
        return start::known_stage(stage) && message.stage != start::Stage::None && message.err >= 0 &&
               message.err <= kMaxErrno;
    }
    return false;
}

}  // namespace

ToParent ToParent::make(ToParentKind kind, const std::string& detail) noexcept
{
    ToParent message;
    message.kind = kind;
    copy_detail(message, detail);
    return message;
}

ToParent ToParent::failed(start::Stage stage, int err, const std::string& detail) noexcept
{
    ToParent message;
    message.kind = ToParentKind::Failed;
    message.stage = stage;
    message.err = err;
    copy_detail(message, detail);
    return message;
}

start::Failure ToParent::failure() const
{
    return start::Failure{stage, err, detail};
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
    message.detail[sizeof message.detail - 1] = '\0';
    if (got != sizeof message || !valid(message)) {
        passed_fd.reset();
        message = ToParent{};
        errno = EBADMSG;
        return Received::Error;
    }
    return Received::Message;
}

}  // namespace portwrap::handshake
