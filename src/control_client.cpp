#include "control_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "error.h"
#include "forward_spec.h"
#include "host_endpoint.h"
#include "log.h"

namespace portwrap::control_client {
namespace {

constexpr int kTimeoutSeconds = 10;

}  // namespace

int run(const std::vector<std::string>& args)
{
    const bool known = (args.size() == 2 && args[1] == "list") ||
                       (args.size() == 3 && (args[1] == "add" || args[1] == "remove"));
    if (!known) {
        log::error("usage: portwrap ctl SOCKET list | add FORWARD | remove FORWARD (see 'portwrap --help')");
        return kExitSetupFailure;
    }
    const std::string& path = args[0];
    forward::Spec spec;
    spec.unix_path = path;
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
        log::error("invalid control socket path '%s'", path.c_str());
        return kExitSetupFailure;
    }
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval timeout{kTimeoutSeconds, 0};
    const host_endpoint::SocketAddress address = host_endpoint::host_address(spec);
    if (!socket || ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
        ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
        ::connect(socket.get(), address.get(), address.length) != 0) {
        log::error("%s", describe_errno("cannot connect to the control socket " + path, errno).c_str());
        return kExitSetupFailure;
    }
    // Before anything is sent or believed: the server must run as this user. Else a
    // socket put in its place (another user's, in a directory they can write to)
    // would learn the request and answer with whatever it likes.
    ucred server{};
    socklen_t length = sizeof server;
    if (::getsockopt(socket.get(), SOL_SOCKET, SO_PEERCRED, &server, &length) != 0) {
        log::error("%s", describe_errno("cannot learn who serves the control socket " + path, errno).c_str());
        return kExitSetupFailure;
    }
    if (server.uid != ::getuid()) {
        log::error("refusing the control socket %s: it is served by uid %u, not by you (uid %u); is the path right?",
                   path.c_str(), static_cast<unsigned>(server.uid), static_cast<unsigned>(::getuid()));
        return kExitSetupFailure;
    }
    std::string request = args[1];
    if (args.size() == 3)
        request += " " + args[2];
    request += "\n";
    if (::send(socket.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        log::error("%s", describe_errno("cannot send to the control socket " + path, errno).c_str());
        return kExitSetupFailure;
    }
    std::string reply;
    char buffer[4096];
    for (ssize_t got; (got = ::recv(socket.get(), buffer, sizeof buffer, 0)) != 0;) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            log::error("%s", describe_errno("no answer from the control socket " + path, errno).c_str());
            return kExitSetupFailure;
        }
        reply.append(buffer, static_cast<size_t>(got));
    }
    const std::string first = reply.substr(0, reply.find('\n'));
    if (first.rfind("error: ", 0) == 0) {
        log::error("%s", first.substr(7).c_str());
        return 1;
    }
    if (first != "ok" && first.rfind("ok ", 0) != 0) {
        log::error("unexpected answer from the control socket %s: '%s'", path.c_str(), first.c_str());
        return kExitSetupFailure;
    }
    // "ok HOST_SIDE" prints HOST_SIDE; "ok" and the lines after it print those lines.
    std::string out = first.size() > 3 ? first.substr(3) + "\n" : "";
    if (reply.size() > first.size() + 1)
        out += reply.substr(first.size() + 1);
    std::fputs(out.c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : kExitSetupFailure;
}

}  // namespace portwrap::control_client
