#include "rtnetlink.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>


namespace portwrap::rtnetlink {

Request::Request(uint16_t type, uint16_t flags, const void* family_header, size_t family_header_size)
    : bytes_(NLMSG_SPACE(family_header_size), 0)
{
    auto* header = reinterpret_cast<nlmsghdr*>(bytes_.data());
    header->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(family_header_size));
    header->nlmsg_type = type;
    header->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    std::memcpy(NLMSG_DATA(header), family_header, family_header_size);
    bytes_.resize(NLMSG_ALIGN(header->nlmsg_len));
}

void Request::add_attribute(uint16_t type, const void* data, size_t size)
{
    size_t offset = bytes_.size();
    bytes_.resize(offset + RTA_SPACE(size), 0);
    auto* attribute = reinterpret_cast<rtattr*>(bytes_.data() + offset);
    attribute->rta_type = type;
    attribute->rta_len = static_cast<uint16_t>(RTA_LENGTH(size));
    std::memcpy(RTA_DATA(attribute), data, size);
    reinterpret_cast<nlmsghdr*>(bytes_.data())->nlmsg_len = static_cast<uint32_t>(bytes_.size());
}

void Request::set_sequence(uint32_t seq)
{
    reinterpret_cast<nlmsghdr*>(bytes_.data())->nlmsg_seq = seq;
}

Request link_set(int ifindex, bool up, uint32_t mtu)
{
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = ifindex;
    info.ifi_flags = up ? IFF_UP : 0;
    info.ifi_change = IFF_UP;
    Request request(RTM_NEWLINK, 0, &info, sizeof info);
    if (mtu != 0)
        request.add_u32(IFLA_MTU, mtu);
    return request;
}

namespace {

Request address_request(int ifindex, uint8_t family, uint8_t flags, const void* address, size_t address_size,
                        uint8_t prefix_length)
{
    ifaddrmsg info{};
    info.ifa_family = family;
    info.ifa_prefixlen = prefix_length;
    info.ifa_flags = flags;
    info.ifa_scope = RT_SCOPE_UNIVERSE;
    info.ifa_index = static_cast<uint32_t>(ifindex);
    Request request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &info, sizeof info);
    request.add_attribute(IFA_LOCAL, address, address_size);
    request.add_attribute(IFA_ADDRESS, address, address_size);
    return request;
}

Request route_add(int ifindex, uint8_t family, const void* gateway, size_t gateway_size)
{
    rtmsg info{};
    info.rtm_family = family;
    info.rtm_dst_len = 0;  // 0.0.0.0/0
    info.rtm_table = RT_TABLE_MAIN;
    info.rtm_protocol = RTPROT_BOOT;
    info.rtm_scope = RT_SCOPE_UNIVERSE;
    info.rtm_type = RTN_UNICAST;
    Request request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &info, sizeof info);
    request.add_attribute(RTA_GATEWAY, gateway, gateway_size);
    request.add_u32(RTA_OIF, static_cast<uint32_t>(ifindex));
    return request;
}

}  // namespace

Request default_route_add(int ifindex, in_addr gateway)
{
    return route_add(ifindex, AF_INET, &gateway, sizeof gateway);
}

Request default_route_add(int ifindex, const in6_addr& gateway)
{
    return route_add(ifindex, AF_INET6, &gateway, sizeof gateway);
}

Request address_add(int ifindex, in_addr address, uint8_t prefix_length)
{
    return address_request(ifindex, AF_INET, 0, &address, sizeof address, prefix_length);
}

Request address_add(int ifindex, const in6_addr& address, uint8_t prefix_length)
{
    return address_request(ifindex, AF_INET6, IFA_F_NODAD, &address, sizeof address, prefix_length);
}

int decode_ack(const void* buffer, size_t size, uint32_t seq)
{
    // Walk the messages by hand rather than with NLMSG_NEXT: its signed length
    // arithmetic hides truncation, and a truncated reply must never be read past.
    const auto* bytes = static_cast<const uint8_t*>(buffer);
    size_t offset = 0;
    while (size - offset >= sizeof(nlmsghdr)) {
        nlmsghdr header;
        std::memcpy(&header, bytes + offset, sizeof header);
        if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > size - offset)
            return -1;
        if (header.nlmsg_type == NLMSG_ERROR && header.nlmsg_seq == seq) {
            if (header.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
                return -1;
            nlmsgerr error;
            std::memcpy(&error, bytes + offset + NLMSG_HDRLEN, sizeof error);
            // An errno is 1..4095 (the kernel's MAX_ERRNO); anything else is no valid
            // acknowledgement (and negating INT_MIN would overflow).
            constexpr int kMaxErrno = 4095;
            return error.error <= 0 && error.error >= -kMaxErrno ? -error.error : -1;
        }
        offset += NLMSG_ALIGN(header.nlmsg_len);
        if (offset > size)
            break;
    }
    return -1;
}

Socket::Socket(std::nothrow_t) noexcept : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {}

int Socket::execute(Request& request)
{
    const uint32_t seq = next_seq_++;
    request.set_sequence(seq);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    const auto& bytes = request.bytes();
    ssize_t sent;
    do {
        sent = ::sendto(fd_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                        sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0)
        return errno;
    if (static_cast<size_t>(sent) != bytes.size())
        return EMSGSIZE;

    alignas(nlmsghdr) uint8_t reply[8192];
    for (int attempts = 0; attempts < 16; ++attempts) {
        ssize_t got = ::recv(fd_.get(), reply, sizeof reply, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno;
        int result = decode_ack(reply, static_cast<size_t>(got), seq);
        if (result >= 0)
            return result;
    }
    return EPROTO;  // the kernel kept answering something else
}

}  // namespace portwrap::rtnetlink
