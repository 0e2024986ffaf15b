// The parent's side of -T/--to-host: accepts on the listeners the child made inside
// the namespace and relays each connection to the host loopback port it names. Only
// those ports: the rest of the host's loopback stays out of reach (libslirp still
// refuses 10.0.2.2 unless --allow-host-loopback).
#pragma once

#include <memory>
#include <vector>

#include "host_access.h"
#include "launcher.h"
#include "poll_source.h"

namespace portwrap {

class PipePool;
class Relay;

class HostAccessRelays final : public PollSource {
public:
    // `listeners` from Launcher::take_to_host_listeners, whose indexes point into
    // `guest_listeners`; `owner_of[i]` is the spec guest_listeners[i] was made for.
    // `pipes` (the forward table's, shared by every relay) and `max_connections` as
    // for the forwards' relays.
    HostAccessRelays(std::vector<Launcher::ToHostListener> listeners, const std::vector<host_access::Spec>& specs,
                     const std::vector<size_t>& owner_of, PipePool& pipes, size_t max_connections);
    ~HostAccessRelays() override;

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override;

private:
    std::vector<std::unique_ptr<Relay>> relays_;
};

}  // namespace portwrap
