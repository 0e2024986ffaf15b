// ReadinessProbe: tells a script when the forwards really reach a server. Until then
// it asks the connector, inside the namespace, for a TCP connection to each forward's
// target (127.0.0.1:GUEST_PORT for the relay, tap0's address for the slirp driver),
// retrying with a growing pause while they are refused. When every one has
// connected, it writes the host sides, one per line, to the --ready-fd and closes it.
// A probe connection is closed as soon as it is made, as a TCP health check's is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "connector.h"
#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class ReadinessProbe final : public PollSource {
public:
    struct Target {
        uint16_t port;
        connector::Target where;
    };

    // `ready_fd`: where to report; `lines`: what to write there; `connector` stays
    // the caller's and must outlive this. With no targets (only UDP forwards), ready
    // at once.
    ReadinessProbe(UniqueFd ready_fd, std::vector<std::string> lines, std::vector<Target> targets,
                   Connector& connector);

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override { return false; }

private:
    struct Pending {
        Target target;
        UniqueFd socket;          // a connect in progress, or none
        int64_t next_try_ms = 0;  // when there is none
        int64_t pause_ms = 0;     // the current retry pause
        size_t index = SIZE_MAX;  // in the pollfd vector
    };

    void try_connect(Pending& pending, int64_t now);
    void report_if_all_ready();

    UniqueFd ready_fd_;
    std::vector<std::string> lines_;
    std::vector<Pending> pending_;
    Connector& connector_;
};

}  // namespace portwrap
