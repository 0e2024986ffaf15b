#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <map>

#include "catch.h"
#include "rtnetlink.h"

using namespace portwrap::rtnetlink;

namespace {

// Splits a request into its header, family struct and attributes, as the kernel would.
struct Parsed {
    nlmsghdr header{};
    std::vector<uint8_t> family;
    std::map<uint16_t, std::vector<uint8_t>> attributes;
};

Parsed parse_request(const std::vector<uint8_t>& bytes, size_t family_size)
{
    Parsed parsed;
    REQUIRE(bytes.size() >= NLMSG_LENGTH(family_size));
    std::memcpy(&parsed.header, bytes.data(), sizeof parsed.header);
    REQUIRE(parsed.header.nlmsg_len == bytes.size());
    parsed.family.assign(bytes.begin() + NLMSG_HDRLEN, bytes.begin() + NLMSG_HDRLEN + family_size);
    size_t offset = NLMSG_SPACE(family_size);
    while (offset < bytes.size()) {
        rtattr attribute;
        std::memcpy(&attribute, bytes.data() + offset, sizeof attribute);
        REQUIRE(attribute.rta_len >= RTA_LENGTH(0));
        REQUIRE(offset + attribute.rta_len <= bytes.size());
        parsed.attributes[attribute.rta_type].assign(bytes.begin() + offset + RTA_LENGTH(0),
                                                     bytes.begin() + offset + attribute.rta_len);
        offset += RTA_ALIGN(attribute.rta_len);
    }
    REQUIRE(offset == bytes.size());
    return parsed;
}

template <typename T>
T as(const std::vector<uint8_t>& bytes)
{
    REQUIRE(bytes.size() == sizeof(T));
    T value;
    std::memcpy(&value, bytes.data(), sizeof value);
    return value;
}

in_addr ip(const char* text)
{
    in_addr address{};
    REQUIRE(inet_pton(AF_INET, text, &address) == 1);
    return address;
}

std::vector<uint8_t> ack(uint32_t seq, int error)
{
    std::vector<uint8_t> bytes(NLMSG_SPACE(sizeof(nlmsgerr)), 0);
    nlmsghdr header{};
    header.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(nlmsgerr)));
    header.nlmsg_type = NLMSG_ERROR;
    header.nlmsg_seq = seq;
    nlmsgerr body{};
    body.error = error;
    std::memcpy(bytes.data(), &header, sizeof header);
    std::memcpy(bytes.data() + NLMSG_HDRLEN, &body, sizeof body);
    return bytes;
}

}  // namespace

TEST_CASE("link_set brings a link up and sets its MTU", "[rtnetlink]")
{
    Request request = link_set(7, true, 65520);
    request.set_sequence(42);
    Parsed parsed = parse_request(request.bytes(), sizeof(ifinfomsg));
    CHECK(parsed.header.nlmsg_type == RTM_NEWLINK);
    CHECK(parsed.header.nlmsg_seq == 42);
    CHECK((parsed.header.nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) == (NLM_F_REQUEST | NLM_F_ACK));
    auto info = as<ifinfomsg>(parsed.family);
    CHECK(info.ifi_index == 7);
    CHECK(info.ifi_flags == IFF_UP);
    CHECK(info.ifi_change == IFF_UP);
    CHECK(as<uint32_t>(parsed.attributes.at(IFLA_MTU)) == 65520);
}

TEST_CASE("link_set without an MTU carries no MTU attribute", "[rtnetlink]")
{
    Parsed parsed = parse_request(link_set(1, true, 0).bytes(), sizeof(ifinfomsg));
    CHECK(parsed.attributes.empty());
}

TEST_CASE("address_add carries the address twice and the prefix length", "[rtnetlink]")
{
    Parsed parsed = parse_request(address_add(3, ip("10.0.2.100"), 24).bytes(), sizeof(ifaddrmsg));
    CHECK(parsed.header.nlmsg_type == RTM_NEWADDR);
    CHECK((parsed.header.nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) == (NLM_F_CREATE | NLM_F_EXCL));
    auto info = as<ifaddrmsg>(parsed.family);
    CHECK(info.ifa_family == AF_INET);
    CHECK(info.ifa_prefixlen == 24);
    CHECK(info.ifa_index == 3);
    CHECK(as<in_addr>(parsed.attributes.at(IFA_LOCAL)).s_addr == ip("10.0.2.100").s_addr);
    CHECK(as<in_addr>(parsed.attributes.at(IFA_ADDRESS)).s_addr == ip("10.0.2.100").s_addr);
}

TEST_CASE("default_route_add is 0.0.0.0/0 via the gateway on the interface", "[rtnetlink]")
{
    Parsed parsed = parse_request(default_route_add(3, ip("10.0.2.2")).bytes(), sizeof(rtmsg));
    CHECK(parsed.header.nlmsg_type == RTM_NEWROUTE);
    auto info = as<rtmsg>(parsed.family);
    CHECK(info.rtm_family == AF_INET);
    CHECK(info.rtm_dst_len == 0);
    CHECK(info.rtm_table == RT_TABLE_MAIN);
    CHECK(info.rtm_type == RTN_UNICAST);
    CHECK(as<in_addr>(parsed.attributes.at(RTA_GATEWAY)).s_addr == ip("10.0.2.2").s_addr);
    CHECK(as<uint32_t>(parsed.attributes.at(RTA_OIF)) == 3);
}

TEST_CASE("IPv6: the address without duplicate address detection, and ::/0", "[rtnetlink]")
{
    in6_addr guest{}, gateway{};
    REQUIRE(inet_pton(AF_INET6, "fd00::100", &guest) == 1);
    REQUIRE(inet_pton(AF_INET6, "fd00::2", &gateway) == 1);
    Parsed address = parse_request(address_add(3, guest, 64).bytes(), sizeof(ifaddrmsg));
    auto info = as<ifaddrmsg>(address.family);
    CHECK(info.ifa_family == AF_INET6);
    CHECK(info.ifa_prefixlen == 64);
    CHECK((info.ifa_flags & IFA_F_NODAD) != 0);
    CHECK(std::memcmp(address.attributes.at(IFA_LOCAL).data(), &guest, sizeof guest) == 0);
    CHECK(address.attributes.at(IFA_ADDRESS) == address.attributes.at(IFA_LOCAL));
    Parsed route = parse_request(default_route_add(3, gateway).bytes(), sizeof(rtmsg));
    CHECK(as<rtmsg>(route.family).rtm_family == AF_INET6);
    CHECK(as<rtmsg>(route.family).rtm_dst_len == 0);
    REQUIRE(route.attributes.at(RTA_GATEWAY).size() == sizeof gateway);
    CHECK(std::memcmp(route.attributes.at(RTA_GATEWAY).data(), &gateway, sizeof gateway) == 0);
    CHECK(as<uint32_t>(route.attributes.at(RTA_OIF)) == 3);
}

TEST_CASE("decode_ack turns the kernel's answer into an errno", "[rtnetlink]")
{
    auto ok = ack(5, 0);
    CHECK(decode_ack(ok.data(), ok.size(), 5) == 0);
    auto busy = ack(5, -EEXIST);
    CHECK(decode_ack(busy.data(), busy.size(), 5) == EEXIST);
    auto denied = ack(6, -EPERM);
    CHECK(decode_ack(denied.data(), denied.size(), 6) == EPERM);
}

TEST_CASE("decode_ack rejects an error field that is no errno", "[rtnetlink]")
{
    auto positive = ack(5, 1);
    CHECK(decode_ack(positive.data(), positive.size(), 5) == -1);
    auto last_errno = ack(5, -4095);
    CHECK(decode_ack(last_errno.data(), last_errno.size(), 5) == 4095);
    auto beyond = ack(5, -4096);
    CHECK(decode_ack(beyond.data(), beyond.size(), 5) == -1);
    auto lowest = ack(5, INT_MIN);  // negating it would overflow
    CHECK(decode_ack(lowest.data(), lowest.size(), 5) == -1);
}

TEST_CASE("decode_ack ignores other sequence numbers and rejects truncated replies", "[rtnetlink]")
{
    auto other = ack(4, -EPERM);
    CHECK(decode_ack(other.data(), other.size(), 5) == -1);
    auto reply = ack(5, -EPERM);
    CHECK(decode_ack(reply.data(), reply.size() - 1, 5) == -1);
    CHECK(decode_ack(reply.data(), 8, 5) == -1);
    CHECK(decode_ack(nullptr, 0, 5) == -1);

    // Two messages in one buffer: the acknowledgement is the second.
    auto both = other;
    both.insert(both.end(), reply.begin(), reply.end());
    CHECK(decode_ack(both.data(), both.size(), 5) == EPERM);
}
