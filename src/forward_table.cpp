#include "forward_table.h"

#include "error.h"
#include "host_endpoint.h"
#include "log.h"
#include "relay.h"
#include "slirp_session.h"
#include "udp_relay.h"

namespace portwrap {

struct ForwardTable::Forward {
    forward::Spec spec;      // with the port that was bound for port 0
    std::string host_side;   // as bound, "/udp" appended for UDP
    std::unique_ptr<Relay> relay;
    std::unique_ptr<UdpRelay> udp;  // neither: a libslirp hostfwd
};

namespace {

// spec's port taken from the host side as bound ("…:40123").
forward::Spec with_bound_port(forward::Spec spec, const std::string& bound)
{
    if (spec.unix_path.empty()) {
        const size_t colon = bound.rfind(':');
        if (colon != std::string::npos)
            spec.host_port = static_cast<uint16_t>(std::stoul(bound.substr(colon + 1)));
    }
    return spec;
}

}  // namespace

ForwardTable::ForwardTable(SlirpSession& slirp, bool relay_driver, int connector_socket, size_t max_connections)
    : slirp_(slirp), relay_driver_(relay_driver), connector_(connector_socket), max_connections_(max_connections)
{
}

ForwardTable::~ForwardTable() = default;

std::string ForwardTable::add(const forward::Spec& spec)
{
    const bool udp = spec.protocol == forward::Protocol::Udp;
    if ((udp || relay_driver_) && connector_ < 0)
        throw Error("cannot add " + forward::host_side(spec) + ": portwrap started no connector in the namespace");
    Forward entry;
    if (udp) {
        UniqueFd socket = host_endpoint::bind_udp(spec);
        entry.host_side = host_endpoint::bound_side(socket.get());
        entry.udp = std::make_unique<UdpRelay>(std::move(socket), spec.guest_port, connector_);
        log::info("relaying %s/udp to 127.0.0.1:%u inside the namespace", entry.host_side.c_str(), spec.guest_port);
    } else if (relay_driver_) {
        UniqueFd listener = host_endpoint::listen_tcp(spec);
        entry.host_side = host_endpoint::bound_side(listener.get());
        entry.relay = std::make_unique<Relay>(std::move(listener), spec.guest_port, connector_, pipes_, max_connections_);
        log::info("relaying %s to 127.0.0.1:%u inside the namespace", entry.host_side.c_str(), spec.guest_port);
    } else {
        entry.host_side = slirp_.add_forward(spec);
    }
    entry.spec = with_bound_port(spec, entry.host_side);
    if (udp)
        entry.host_side += "/udp";
    forwards_.push_back(std::move(entry));
    return forwards_.back().host_side;
}

bool ForwardTable::remove(const forward::Spec& spec)
{
    for (auto it = forwards_.begin(); it != forwards_.end(); ++it) {
        const forward::Spec& have = it->spec;
        if (have.protocol != spec.protocol || forward::host_side(have) != forward::host_side(spec) ||
            (spec.guest_port != 0 && spec.guest_port != have.guest_port))
            continue;
        if (it->relay) {
            it->relay->close_listener();
            if (!it->relay->idle())
                retired_.push_back(std::move(it->relay));
        } else if (!it->udp) {
            slirp_.remove_forward(have);
        }
        log::info("removed the forward %s", it->host_side.c_str());
        forwards_.erase(it);
        return true;
    }
    return false;
}

std::vector<std::string> ForwardTable::list() const
{
    std::vector<std::string> lines;
    for (const Forward& f : forwards_) {
        const std::string guest = ":" + std::to_string(f.spec.guest_port);
        lines.push_back(f.spec.unix_path.empty()
                            ? forward::host_side(f.spec) + guest + "/" + forward::protocol_name(f.spec.protocol)
                            : forward::host_side(f.spec) + guest);
    }
    return lines;
}

void ForwardTable::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    for (Forward& f : forwards_) {
        if (f.relay)
            f.relay->fill(fds, timeout_ms);
        else if (f.udp)
            f.udp->fill(fds, timeout_ms);
    }
    for (auto& relay : retired_)
        relay->fill(fds, timeout_ms);
}

size_t ForwardTable::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    size_t work = 0;
    // A forward added during this round (by the control socket) has not filled yet;
    // its dispatch then finds none of its fds and does nothing.
    for (Forward& f : forwards_) {
        if (f.relay)
            work += f.relay->dispatch(fds, poll_failed);
        else if (f.udp)
            work += f.udp->dispatch(fds, poll_failed);
    }
    for (auto it = retired_.begin(); it != retired_.end();) {
        work += (*it)->dispatch(fds, poll_failed);
        it = (*it)->idle() ? retired_.erase(it) : std::next(it);
    }
    return work;
}

bool ForwardTable::has_pending_output() const noexcept
{
    for (const Forward& f : forwards_)
        if (f.relay && f.relay->has_pending_output())
            return true;
    for (const auto& relay : retired_)
        if (relay->has_pending_output())
            return true;
    return false;
}

}  // namespace portwrap
