#include "guest_network.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <string>

#include "error.h"
#include "rtnetlink.h"

namespace portwrap::guest_network {

in_addr address(const char* dotted)
{
    in_addr parsed{};
    inet_pton(AF_INET, dotted, &parsed);  // only ever called with the constants above
    return parsed;
}

void configure(int tap_ifindex)
{
    rtnetlink::Socket netlink;
    auto run = [&](rtnetlink::Request request, const std::string& step) {
        if (int err = netlink.execute(request); err != 0)
            throw Error(describe_errno("cannot " + step + " (rtnetlink)", err));
    };
    const int lo = static_cast<int>(if_nametoindex("lo"));
    if (lo == 0)
        throw_errno("cannot find the loopback interface lo");
    const std::string tap = kTapName;
    run(rtnetlink::link_set(lo, true, 0), "bring up lo");
    run(rtnetlink::link_set(tap_ifindex, true, kMtu), "set " + tap + " MTU to " + std::to_string(kMtu) + " and bring it up");
    run(rtnetlink::address_add(tap_ifindex, address(kGuestAddress), kPrefixLength),
        "add address " + std::string(kGuestAddress) + "/" + std::to_string(kPrefixLength) + " to " + tap);
    run(rtnetlink::default_route_add(tap_ifindex, address(kGateway)),
        "add default route via " + std::string(kGateway) + " on " + tap);
}

}  // namespace portwrap::guest_network
