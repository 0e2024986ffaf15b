// The decisions of one run (session.h), as pure functions of the options: which port
// driver, whether the connector is needed, what the readiness probe connects to, which
// -T listeners the child makes. session.cpp only carries them out, and the unit tests
// (tests/unit/test_session_policy.cpp) check them without a namespace.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "forward_spec.h"
#include "host_access.h"
#include "readiness.h"

namespace portwrap::session_policy {

// Why the handoff driver cannot run on this kernel, or nullopt if it can
// (handoff_filter::unsupported_reason): asked only when the choice depends on it.
using HandoffProbe = std::function<std::optional<std::string>()>;

struct DriverChoice {
    cli::PortDriver driver;  // Handoff, Relay or Slirp: never Auto
    std::string note;        // what -v says about the choice ("" when it was not a choice)
};

// --port-driver with 'auto' resolved: handoff where the kernel supports it, relay
// elsewhere. Throws Error when --port-driver=handoff is asked for and unavailable.
DriverChoice choose_port_driver(cli::PortDriver asked, const HandoffProbe& handoff_unavailable);

// Whether the connector must run inside: UDP is always relayed (udp_relay.h says
// why); TCP with the relay driver, and with the handoff driver for a Unix host side
// or a server it cannot hand off to. The readiness probe connects from inside too,
// and forwards added through the control socket may need it.
bool needs_connector(cli::PortDriver driver, const std::vector<forward::Spec>& forwards, bool ready_fd,
                     bool control_socket);

// What the --ready-fd probe connects to for each forward it can probe (TCP only: a
// UDP server cannot be probed): the guest port on the loopback inside for the relay
// and handoff drivers (handoff: portwrap's listener for clients inside answers there
// once the server has its socket, forward_table.h), tap0's address where libslirp
// delivers (slirp driver).
std::vector<ReadinessProbe::Target> readiness_targets(cli::PortDriver driver,
                                                      const std::vector<forward::Spec>& forwards);

// Where a --jupyterhub service is reached inside: the relay delivers to 127.0.0.1,
// libslirp's hostfwd to tap0's address (so the server must listen on 0.0.0.0).
std::string jupyterhub_inside_address(cli::PortDriver asked);

// -T: every listener the child makes inside, with the index of the -T it belongs to.
struct GuestListeners {
    std::vector<host_access::GuestListener> listeners;
    std::vector<size_t> owner_of;  // owner_of[i]: the -T of listeners[i]
};
GuestListeners guest_listeners(const std::vector<host_access::Spec>& to_host);

}  // namespace portwrap::session_policy
