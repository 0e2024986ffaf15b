#include "host_access_relays.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "error.h"
#include "forward_spec.h"
#include "host_endpoint.h"
#include "log.h"
#include "relay.h"

namespace portwrap {
namespace {

// A socket connecting to `address` on the host, non-blocking; the relay waits for the
// connect to finish, as it does for the connector's sockets.
UniqueFd connect_to_host(const host_endpoint::SocketAddress& address)
{
    UniqueFd socket(::socket(address.get()->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket)
        return socket;
    int on = 1;
    ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (::connect(socket.get(), address.get(), address.length) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        socket.reset();
        errno = err;
    }
    return socket;
}

}  // namespace

HostAccessRelays::HostAccessRelays(std::vector<Launcher::ToHostListener> listeners,
                                   const std::vector<host_access::Spec>& specs, const std::vector<size_t>& owner_of,
                                   PipePool& pipes, size_t max_connections)
{
    for (Launcher::ToHostListener& listener : listeners) {
        const host_access::Spec& spec = specs.at(owner_of.at(listener.index));
        forward::Spec host;
        host.ipv6 = spec.host_addr.find(':') != std::string::npos;
        host.host_addr = spec.host_addr;
        host.host_port = spec.host_port;
        const host_endpoint::SocketAddress address = host_endpoint::host_address(host);
        const std::string target = host_access::join(spec.host_addr, spec.host_port) + " on the host";
        log::info("relaying %s inside the namespace to %s (-T)",
                  host_endpoint::bound_side(listener.fd.get()).c_str(), target.c_str());
        relays_.push_back(std::make_unique<Relay>(
            std::move(listener.fd), Relay::Target{[address] { return connect_to_host(address); }, target}, pipes,
            max_connections));
    }
}

HostAccessRelays::~HostAccessRelays() = default;

void HostAccessRelays::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    for (auto& relay : relays_)
        relay->fill(fds, timeout_ms);
}

size_t HostAccessRelays::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    size_t work = 0;
    for (auto& relay : relays_)
        work += relay->dispatch(fds, poll_failed);
    return work;
}

bool HostAccessRelays::has_pending_output() const noexcept
{
    for (const auto& relay : relays_)
        if (relay->has_pending_output())
            return true;
    return false;
}

}  // namespace portwrap
