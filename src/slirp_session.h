// SlirpSession: one libslirp instance on the host side of tap0, with its timers, the
// TAP fd and the poll-loop glue. Owns the Slirp*, freed by slirp_cleanup.
#pragma once

#include <libslirp.h>
#include <poll.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "forward_spec.h"
#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class SlirpSession final : public PollSource {
public:
    SlirpSession(UniqueFd tap, bool allow_host_loopback);  // throws Error
    ~SlirpSession() override;
    SlirpSession(const SlirpSession&) = delete;
    SlirpSession& operator=(const SlirpSession&) = delete;

    // Listens on spec's host side (TCP; IPv4, IPv6 or a 0600 Unix socket) and forwards
    // to 10.0.2.100:GUEST_PORT (from IPv6: to the guest's IPv6 address). Returns the
    // host side as bound (with the port picked for port 0). Throws Error naming the
    // address when it cannot.
    std::string add_forward(const forward::Spec& spec);
    // Removes the forward added for `spec` (with the port that was bound); libslirp
    // closes its listener, connections already made go on.
    void remove_forward(const forward::Spec& spec);

    // Appends the TAP fd and libslirp's fds to `fds` and lowers timeout_ms to the
    // next deadline (UINT32_MAX: none).
    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    // After poll(): lets libslirp serve its sockets, feeds it the frames waiting on the
    // TAP and fires due timers. Returns the number of frames read from the TAP.
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    // True if libslirp still has data to write to a host socket (asked for POLLOUT).
    bool has_pending_output() const noexcept override { return wants_output_; }

private:
    struct Timer {
        SlirpTimerCb callback;
        void* opaque;
        int64_t expire_ms;  // -1: not armed
    };

    struct Listener {
        int fd;        // a forwarded port's listening socket, owned by libslirp
        size_t index;  // its entry in the poll set, SIZE_MAX if none this round
    };

    void pause_listeners_if_out_of_fds(const std::vector<pollfd>& fds);
    size_t read_tap_frames();
    // The loopback guard (loopback_guard.h) on the frame in frame_buffer_: false to drop it.
    bool passes_loopback_guard(size_t length);
    void run_due_timers();
    uint32_t ms_until_next_timer() const;

    static ssize_t send_packet(const void* frame, size_t length, void* self);
    static void guest_error(const char* message, void* self);
    static int64_t clock_get_ns(void* self);
    static void* timer_new(SlirpTimerCb callback, void* callback_opaque, void* self);
    static void timer_free(void* timer, void* self);
    static void timer_mod(void* timer, int64_t expire_ms, void* self);
    static void register_poll_fd(int fd, void* self);
    static void unregister_poll_fd(int fd, void* self);
    static void notify(void* self);
    static int add_poll(int fd, int events, void* self);
    static int get_revents(int index, void* self);

    UniqueFd tap_;
    Slirp* slirp_ = nullptr;
    std::vector<std::unique_ptr<Timer>> timers_;
    std::vector<pollfd>* poll_fds_ = nullptr;  // valid during fill() and dispatch()
    size_t socket_events_ = 0;  // host sockets libslirp served in this dispatch() (its work)
    size_t tap_index_ = 0;
    bool wants_output_ = false;
    std::vector<Listener> listeners_;
    int64_t listeners_paused_until_ms_ = 0;
    bool listeners_paused_ = false;  // during fill(): leave the listeners out
    bool guard_loopback_;          // no --allow-host-loopback: judge every frame from tap0
    uint64_t loopback_drops_ = 0;  // frames the guard dropped for their destination
    std::unique_ptr<uint8_t[]> frame_buffer_;
};

}  // namespace portwrap
