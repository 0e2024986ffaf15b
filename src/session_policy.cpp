#include "session_policy.h"

#include <algorithm>

#include "error.h"

namespace portwrap::session_policy {

DriverChoice choose_port_driver(cli::PortDriver asked, const HandoffProbe& handoff_unavailable)
{
    if (asked != cli::PortDriver::Auto && asked != cli::PortDriver::Handoff)
        return {asked, ""};
    const auto reason = handoff_unavailable();
    if (reason && asked == cli::PortDriver::Handoff)
        throw Error("--port-driver=handoff is unavailable here: " + *reason + " (use --port-driver=relay)");
    if (reason)
        return {cli::PortDriver::Relay, "port driver: relay (handoff unavailable: " + *reason + ")"};
    return {cli::PortDriver::Handoff, "port driver: handoff (a server's bind() inside gets the host socket)"};
}

bool needs_connector(cli::PortDriver driver, const std::vector<forward::Spec>& forwards, bool ready_fd,
                     bool control_socket)
{
    const bool relays_tcp = driver == cli::PortDriver::Relay || driver == cli::PortDriver::Handoff;
    return ready_fd || control_socket || std::any_of(forwards.begin(), forwards.end(), [&](const forward::Spec& f) {
               return relays_tcp || f.protocol == forward::Protocol::Udp;
           });
}

std::vector<ReadinessProbe::Target> readiness_targets(cli::PortDriver driver,
                                                      const std::vector<forward::Spec>& forwards)
{
    std::vector<ReadinessProbe::Target> targets;
    for (const forward::Spec& spec : forwards) {
        if (spec.protocol == forward::Protocol::Udp)
            continue;
        const auto where = driver != cli::PortDriver::Slirp ? connector::Target::Loopback
                           : spec.ipv6                      ? connector::Target::TapAddress6
                                                            : connector::Target::TapAddress;
        targets.push_back({spec.guest_port, where});
    }
    return targets;
}

std::string jupyterhub_inside_address(cli::PortDriver asked)
{
    return asked == cli::PortDriver::Slirp ? "0.0.0.0" : "127.0.0.1";
}

GuestListeners guest_listeners(const std::vector<host_access::Spec>& to_host)
{
    GuestListeners result;
    for (size_t i = 0; i < to_host.size(); ++i)
        for (const auto& listener : host_access::guest_listeners(to_host[i])) {
            result.listeners.push_back(listener);
            result.owner_of.push_back(i);
        }
    return result;
}

}  // namespace portwrap::session_policy
