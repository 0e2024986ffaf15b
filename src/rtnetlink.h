// A minimal rtnetlink client: just the requests that set up the namespace's network.
// Message building and reply decoding are pure, so they are unit-tested without sockets.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace portwrap::rtnetlink {

// One request: a netlink header, a fixed family header, then attributes.
class Request {
public:
    Request(uint16_t type, uint16_t flags, const void* family_header, size_t family_header_size);
    void add_attribute(uint16_t type, const void* data, size_t size);
    void add_u32(uint16_t type, uint32_t value) { add_attribute(type, &value, sizeof value); }
    void set_sequence(uint32_t seq);
    const std::vector<uint8_t>& bytes() const noexcept { return bytes_; }

private:
    std::vector<uint8_t> bytes_;
};

// The request bodies portwrap sends.
Request link_set(int ifindex, bool up, uint32_t mtu);  // mtu 0: leave the MTU alone
Request address_add(int ifindex, in_addr address, uint8_t prefix_length);
Request default_route_add(int ifindex, in_addr gateway);
// IPv6: the address without duplicate address detection (usable at once), and the
// default route ::/0.
Request address_add(int ifindex, const in6_addr& address, uint8_t prefix_length);
Request default_route_add(int ifindex, const in6_addr& gateway);

// Decodes the kernel's answer to a request with NLM_F_ACK: 0 for success, a positive
// errno for a rejected request, -1 if the buffer holds no acknowledgement for `seq`.
int decode_ack(const void* buffer, size_t size, uint32_t seq);

// A NETLINK_ROUTE socket in the current network namespace. Only the cloned child uses
// it, which must not throw: valid() is false, with errno set, when the socket cannot
// be made.
class Socket {
public:
    explicit Socket(std::nothrow_t) noexcept;
    bool valid() const noexcept { return fd_.valid(); }
    // Sends the request and waits for its acknowledgement; returns 0 or a positive errno
    // (the child's exception to -1-and-errno: docs/design.md, "Errors"): the kernel's
    // answer carries the errno as a value, and EMSGSIZE or EPROTO are made up here.
    int execute(Request& request);

private:
    UniqueFd fd_;
    uint32_t next_seq_ = 1;
};

}  // namespace portwrap::rtnetlink
