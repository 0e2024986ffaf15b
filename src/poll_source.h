// Something the event loop polls: it adds its fds before poll() and handles what
// poll() reported afterwards: each relay, the forward table, libslirp's session, the
// handoff server, the control server and the readiness probe is one (event_loop.h).
#pragma once

#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace portwrap {

class PollSource {
public:
    virtual ~PollSource() = default;
    // Appends this source's fds to `fds` and lowers timeout_ms to its next deadline.
    virtual void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) = 0;
    // Handles the revents of the fds it added. Returns a count of units of work done
    // (frames, bytes moved): 0 means this round was idle for it.
    virtual size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) = 0;
    // True while it still holds data on its way to a host client.
    virtual bool has_pending_output() const noexcept = 0;
};

}  // namespace portwrap
