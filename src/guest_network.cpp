#include "guest_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "error.h"
#include "rtnetlink.h"
#include "unique_fd.h"

namespace portwrap::guest_network {

in_addr address(const char* dotted)
{
    in_addr parsed{};
    inet_pton(AF_INET, dotted, &parsed);  // only ever called with the constants above
    return parsed;
}

in6_addr address6(const char* text)
{
    in6_addr parsed{};
    inet_pton(AF_INET6, text, &parsed);  // only ever called with the constants above
    return parsed;
}

sockaddr_storage guest_socket_address(bool ipv6, uint16_t port, socklen_t* length)
{
    sockaddr_storage storage{};
    if (ipv6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_addr = address6(kGuestAddress6);
        *length = sizeof *in6;
    } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr = address(kGuestAddress);
        *length = sizeof *in;
    }
    return storage;
}

namespace {

// Writes "0" to the tap's IPv6 sysctl `name`. False if the kernel has no IPv6 (no
// such file); throws on any other failure.
bool switch_off_ipv6_setting(const std::string& tap, const char* name)
{
    const std::string path = "/proc/sys/net/ipv6/conf/" + tap + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return false;
        throw_errno("cannot open " + path);
    }
    if (::write(fd.get(), "0\n", 2) != 2)
        throw_errno("cannot write 0 to " + path);
    return true;
}

}  // namespace

void configure(int tap_ifindex)
{
    rtnetlink::Socket netlink;
    auto run = [&](rtnetlink::Request request, const std::string& step) {
        if (int err = netlink.execute(request); err != 0)
            throw Error(describe_errno("cannot " + step + " (rtnetlink)", err), kExitSetupFailure, err);
    };
    const int lo = static_cast<int>(if_nametoindex("lo"));
    if (lo == 0)
        throw_errno("cannot find the loopback interface lo");
    const std::string tap = kTapName;
    const bool ipv6 = switch_off_ipv6_setting(tap, "accept_ra") && switch_off_ipv6_setting(tap, "autoconf");
    run(rtnetlink::link_set(lo, true, 0), "bring up lo");
    run(rtnetlink::link_set(tap_ifindex, true, kMtu), "set " + tap + " MTU to " + std::to_string(kMtu) + " and bring it up");
    run(rtnetlink::address_add(tap_ifindex, address(kGuestAddress), kPrefixLength),
        "add address " + std::string(kGuestAddress) + "/" + std::to_string(kPrefixLength) + " to " + tap);
    run(rtnetlink::default_route_add(tap_ifindex, address(kGateway)),
        "add default route via " + std::string(kGateway) + " on " + tap);
    if (!ipv6)
        return;
    run(rtnetlink::address_add(tap_ifindex, address6(kGuestAddress6), kPrefixLength6),
        "add address " + std::string(kGuestAddress6) + "/" + std::to_string(kPrefixLength6) + " to " + tap);
    run(rtnetlink::default_route_add(tap_ifindex, address6(kGateway6)),
        "add default route via " + std::string(kGateway6) + " on " + tap);
}

}  // namespace portwrap::guest_network
