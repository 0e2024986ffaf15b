#include "control_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <variant>

#include "clock.h"
#include "error.h"
#include "forward_spec.h"
#include "forward_table.h"
#include "log.h"

namespace portwrap {
namespace {

constexpr size_t kMaxRequest = 4096;
constexpr size_t kMaxClients = 16;
constexpr int64_t kClientTimeoutMs = 5000;  // a client that sends no full line is dropped

}  // namespace

ControlServer::ControlServer(UniqueFd listener, ForwardTable& forwards, std::string host_addr,
                             std::vector<std::string> given_at_start)
    : listener_(std::move(listener)),
      forwards_(forwards),
      host_addr_(std::move(host_addr)),
      given_at_start_(std::move(given_at_start)),
      own_(control_access::own_identity())
{
}

std::string ControlServer::answer(const std::string& request)
{
    const size_t space = request.find(' ');
    const std::string verb = request.substr(0, space);
    const std::string argument = space == std::string::npos ? "" : request.substr(space + 1);
    if (verb == "list" && argument.empty()) {
        std::string text = "ok\n";
        for (const std::string& line : forwards_.list())
            text += line + "\n";
        return text;
    }
    if (verb != "add" && verb != "remove")
        return "error: unknown request '" + verb + "': expected list, add FORWARD or remove FORWARD\n";
    auto parsed = forward::parse(argument, host_addr_);
    if (const auto* error = std::get_if<std::string>(&parsed))
        return "error: " + *error + "\n";
    const forward::Spec& spec = std::get<forward::Spec>(parsed);
    if (verb == "remove") {
        if (spec.unix_path.empty() && spec.host_port == 0)
            return "error: name the forward's port to remove it, as 'list' shows it\n";
        return forwards_.remove(spec) ? "ok\n" : "error: no forward " + forward::host_side(spec) + "/" +
                                                     forward::protocol_name(spec.protocol) + "\n";
    }
    if (spec.guest_port == 0)
        return "error: missing the guest port in '" + argument + "' (write HOST_PORT:GUEST_PORT)\n";
    if (!spec.unix_path.empty())
        return "error: a unix: forward can only be given when portwrap starts\n";
    if (const std::string refused = control_access::judge_address(spec, given_at_start_); !refused.empty())
        return "error: " + refused + "\n";
    try {
        return "ok " + forwards_.add(spec) + "\n";
    } catch (const Error& e) {
        return std::string("error: ") + e.what() + "\n";
    }
}

void ControlServer::fill(std::vector<pollfd>& fds, uint32_t& timeout_ms)
{
    listener_index_ = SIZE_MAX;
    if (clients_.size() < kMaxClients) {
        listener_index_ = fds.size();
        fds.push_back({listener_.get(), POLLIN, 0});
    }
    const int64_t now = monotonic_ms();
    for (Client& client : clients_) {
        client.index = fds.size();
        fds.push_back({client.socket.get(), POLLIN, 0});
        timeout_ms = std::min<uint32_t>(timeout_ms, static_cast<uint32_t>(std::max<int64_t>(client.deadline_ms - now, 0)));
    }
}

size_t ControlServer::dispatch(const std::vector<pollfd>& fds, bool poll_failed)
{
    if (poll_failed)
        return 0;
    const int64_t now = monotonic_ms();
    for (auto it = clients_.begin(); it != clients_.end();) {
        if (it->index < fds.size() && fds[it->index].revents)
            serve(*it);
        const bool done = !it->socket || now >= it->deadline_ms;
        it = done ? clients_.erase(it) : std::next(it);
    }
    if (listener_index_ < fds.size() && (fds[listener_index_].revents & POLLIN)) {
        UniqueFd socket(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (socket) {
            // Judged at once, while the peer waits for its answer (control_access.h).
            std::string refusal = control_access::refusal(socket.get(), own_);
            clients_.push_back({std::move(socket), {}, std::move(refusal), now + kClientTimeoutMs, SIZE_MAX});
        }
    }
    return 0;
}

void ControlServer::serve(Client& client)
{
    char buffer[512];
    for (;;) {
        ssize_t got = ::recv(client.socket.get(), buffer, sizeof buffer, 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (got <= 0) {  // closed before a whole line, or an error: nothing to answer
            client.socket.reset();
            return;
        }
        client.request.append(buffer, static_cast<size_t>(got));
        const size_t newline = client.request.find('\n');
        if (newline == std::string::npos && client.request.size() < kMaxRequest)
            continue;
        // A refused peer gets its refusal after its request is read, so that the
        // client, which sends before it reads, sees the answer, not a broken pipe.
        std::string reply = !client.refusal.empty()     ? "error: " + client.refusal + "\n"
                            : newline == std::string::npos ? "error: request too long\n"
                                                           : answer(client.request.substr(0, newline));
        if (!client.refusal.empty())  // always told, but never the request's own bytes
            log::notice("control socket: %s", client.refusal.c_str());
        else
            log::info("control socket: %s -> %s", client.request.substr(0, std::min(newline, size_t{200})).c_str(),
                      reply.substr(0, reply.find('\n')).c_str());
        // A short reply into an empty socket buffer: one send, no waiting.
        ::send(client.socket.get(), reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        client.socket.reset();
        return;
    }
}

}  // namespace portwrap
