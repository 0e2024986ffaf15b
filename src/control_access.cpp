#include "control_access.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "unique_fd.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; older headers lack it
#endif

namespace portwrap::control_access {
namespace {

// The address's bytes (4 or 16) if `text` is numeric, else "".
std::string address_bytes(const std::string& text)
{
    unsigned char bytes[16];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1)
        return std::string(reinterpret_cast<char*>(bytes), 4);
    if (inet_pton(AF_INET6, text.c_str(), bytes) == 1)
        return std::string(reinterpret_cast<char*>(bytes), 16);
    return "";
}

// 127.0.0.0/8 or ::1. (An IPv4-mapped ::ffff:127.x is not: portwrap binds IPv6 only.)
bool is_loopback(const std::string& bytes)
{
    if (bytes.size() == 4)
        return static_cast<unsigned char>(bytes[0]) == 127;
    static const std::string ipv6_loopback("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
    return bytes == ipv6_loopback;
}

std::optional<NamespaceId> namespace_of(const std::string& path, std::string* why)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        *why = describe_errno(path, errno);
        return std::nullopt;
    }
    return NamespaceId{st.st_dev, st.st_ino};
}

}  // namespace

std::string judge(const Peer& peer, const Identity& own)
{
    const std::string who = "the requesting process (pid " + std::to_string(peer.pid) + ")";
    if (peer.uid != own.uid)
        return "refused: the request comes from uid " + std::to_string(peer.uid) + ", not from portwrap's user (uid " +
               std::to_string(own.uid) + ")";
    if (peer.exited)
        return "refused: " + who + " exited before it could be verified";
    if (!peer.net || !peer.user)
        return "refused: cannot verify " + who + ": " + peer.unreadable;
    if (!(*peer.net == own.net))
        return "refused: " + who +
               " is in another network namespace (inside portwrap?): run 'portwrap ctl' on the host, where portwrap "
               "was started";
    if (!(*peer.user == own.user))
        return "refused: " + who +
               " is in another user namespace: run 'portwrap ctl' in the namespaces where portwrap was started";
    return "";
}

std::string judge_address(const forward::Spec& spec, const std::vector<std::string>& given_at_start)
{
    if (!spec.unix_path.empty())
        return "";
    const std::string bytes = address_bytes(spec.host_addr);
    if (bytes.empty())
        return "refused: '" + spec.host_addr + "' is not a numeric address";
    if (is_loopback(bytes))
        return "";
    for (const std::string& given : given_at_start)
        if (address_bytes(given) == bytes)
            return "";
    const std::string shown = spec.ipv6 ? "[" + spec.host_addr + "]" : spec.host_addr;
    return "refused: 'add' binds loopback addresses only, and " + shown +
           " was not given when portwrap started: to allow it, start portwrap with --host-addr=" + spec.host_addr +
           " or a -p forward on " + shown;
}

Identity own_identity()
{
    // The pid SO_PEERCRED reports is one of portwrap's pid namespace: /proc must be too.
    char self[32] = {};
    const ssize_t length = ::readlink("/proc/self", self, sizeof self - 1);
    if (length <= 0 || std::string(self, static_cast<size_t>(length)) != std::to_string(::getpid()))
        throw Error("cannot serve --control-socket: /proc does not show portwrap's own pid namespace, so requests "
                    "cannot be verified (mount a /proc of this pid namespace)");
    Identity own;
    own.uid = ::geteuid();
    std::string why;
    auto net = namespace_of("/proc/self/ns/net", &why);
    auto user = net ? namespace_of("/proc/self/ns/user", &why) : std::nullopt;
    if (!net || !user)
        throw Error("cannot serve --control-socket: " + why);
    own.net = *net;
    own.user = *user;
    return own;
}

std::string refusal(int socket, const Identity& own)
{
    Peer peer;
    ucred cred{};
    socklen_t length = sizeof cred;
    if (::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0)
        return "refused: " + describe_errno("cannot learn who is asking (SO_PEERCRED)", errno);
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    // A pidfd pins the peer: if it still runs after its namespaces were read, its pid
    // was not reused meanwhile. Kernels before 6.5 have none (docs/security.md).
    int pidfd = -1;
    length = sizeof pidfd;
    const bool have_pidfd = ::getsockopt(socket, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &length) == 0;
    UniqueFd pinned(have_pidfd ? pidfd : -1);
    if (!have_pidfd && (errno == EINVAL || errno == ESRCH))
        peer.exited = true;
    else if (!have_pidfd && errno != ENOPROTOOPT)  // such as EMFILE: cannot pin it, so cannot trust it
        peer.unreadable = describe_errno("SO_PEERPIDFD", errno);
    if (peer.pid <= 0) {
        peer.unreadable = "the kernel recorded no process";
    } else if (!peer.exited && peer.unreadable.empty()) {
        const std::string proc = "/proc/" + std::to_string(peer.pid) + "/ns/";
        peer.net = namespace_of(proc + "net", &peer.unreadable);
        if (peer.net)
            peer.user = namespace_of(proc + "user", &peer.unreadable);
    }
    if (pinned) {
        pollfd fd{pinned.get(), POLLIN, 0};
        const int ready = ::poll(&fd, 1, 0);
        if (ready != 0)  // readable: it has exited; an error: cannot tell, so as if it had
            peer.exited = true;
    }
    return judge(peer, own);
}

}  // namespace portwrap::control_access
