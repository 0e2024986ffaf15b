// The handoff port driver's parent side: it answers the seccomp notifications of the
// command's bind() calls (handoff_filter.h). A bind of a TCP socket to a forwarded
// guest port gets, under the same fd number, portwrap's host socket for that forward
// (bound to the forward's host side; it listens from then on); every other bind
// proceeds inside, untouched. The address handed out is always the forward's: the caller's sockaddr
// only chooses which forward, so what it changes after portwrap read it cannot matter.
#pragma once

#include <cstdint>
#include <vector>

#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class ForwardTable;

class HandoffServer final : public PollSource {
public:
    // `listener`: the seccomp listener fd from the child; `forwards` stays the caller's.
    HandoffServer(UniqueFd listener, ForwardTable& forwards);

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override { return false; }

private:
    // Receives and answers one notification; false when there was none to receive.
    bool serve_one();

    UniqueFd listener_;
    ForwardTable& forwards_;
    std::vector<unsigned char> request_, response_;  // sized by SECCOMP_GET_NOTIF_SIZES
    size_t index_ = SIZE_MAX;
    bool listener_gone_ = false;  // every process with the filter has exited
};

}  // namespace portwrap
