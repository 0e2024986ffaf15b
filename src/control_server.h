// ControlServer: the --control-socket, through which `portwrap ctl` lists, adds and
// removes forwards while the command runs. An owner-only (0600) Unix socket; one
// request per connection, a line of text:
//
//   list              ->  "ok" then one line per forward, as -p values
//   add FORWARD       ->  "ok HOST_SIDE"          (FORWARD as for -p)
//   remove FORWARD    ->  "ok"
//
// and on any failure "error: MESSAGE". A bad request changes nothing. A peer that
// control_access refuses gets "error: refused: …" whatever it asked.
#pragma once

#include <list>
#include <string>
#include <vector>

#include "control_access.h"
#include "poll_source.h"
#include "unique_fd.h"

namespace portwrap {

class ForwardTable;

class ControlServer final : public PollSource {
public:
    // `listener`: a listening, non-blocking Unix socket (host_endpoint::listen_tcp of
    // a unix: spec). `host_addr`: the --host-addr for forwards that name none.
    // `given_at_start`: the addresses `add` may bind besides loopback (--host-addr
    // and the -p forwards'). Records portwrap's identity: before the sandbox only.
    ControlServer(UniqueFd listener, ForwardTable& forwards, std::string host_addr,
                  std::vector<std::string> given_at_start);

    void fill(std::vector<pollfd>& fds, uint32_t& timeout_ms) override;
    size_t dispatch(const std::vector<pollfd>& fds, bool poll_failed) override;
    bool has_pending_output() const noexcept override { return false; }

    // The answer to one request line (without its newline). Public for tests.
    std::string answer(const std::string& request);

private:
    struct Client {
        UniqueFd socket;
        std::string request;
        std::string refusal;  // control_access's verdict on the peer; "" if allowed
        int64_t deadline_ms = 0;
        size_t index = SIZE_MAX;
    };

    void serve(Client& client);  // reads; answers once a line is complete

    UniqueFd listener_;
    ForwardTable& forwards_;
    std::string host_addr_;
    std::vector<std::string> given_at_start_;
    control_access::Identity own_;
    size_t listener_index_ = SIZE_MAX;
    std::list<Client> clients_;
};

}  // namespace portwrap
