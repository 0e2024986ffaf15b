// libFuzzer harness for the loopback guard, portwrap::loopback_guard::judge: the frames
// a command with --map-root can write onto tap0.
//
// Input layout: the Ethernet frame as read() from the TAP fd.
//
// The frame is copied to a heap block of exactly its size, so AddressSanitizer reports
// any read past the end; so are two prefixes of it (a frame cut short). The verdict
// must be what expected_verdict() below works out with libc's own address macros, the
// destination must be the one in the frame, and describe() must give text that parses
// back to it.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_check.h"
#include "loopback_guard.h"

namespace {

using portwrap::loopback_guard::Verdict;

constexpr char kFuzzTarget[] = "fuzz_loopback_guard";

FUZZ_ORACLE bool ipv4_blocked(const uint8_t* address)
{
    uint32_t host_order = uint32_t{address[0]} << 24 | uint32_t{address[1]} << 16 | uint32_t{address[2]} << 8 | address[3];
    const uint32_t network = host_order >> IN_CLASSA_NSHIFT;
    return network == IN_LOOPBACKNET || network == 0;  // 127/8, 0/8
}

FUZZ_ORACLE bool ipv6_blocked(const uint8_t* address)
{
    in6_addr a;
    std::memcpy(&a, address, sizeof a);
    if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a))
        return true;
    // glibc's IN6_IS_ADDR_V4COMPAT leaves out :: and ::1, which are blocked above.
    const bool compatible = std::memcmp(address, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0;
    return (IN6_IS_ADDR_V4MAPPED(&a) || compatible) && ipv4_blocked(address + 12);
}

// What judge() should say, worked out independently: only EtherTypes 0x0800 and 0x86dd
// are judged; an IP packet too short to hold its destination is Truncated.
FUZZ_ORACLE Verdict expected_verdict(const uint8_t* frame, size_t size)
{
    if (size < 14)
        return Verdict::Pass;
    if (frame[12] == 0x08 && frame[13] == 0x00) {
        if (size < 14 + 20)
            return Verdict::Truncated;
        return ipv4_blocked(frame + 14 + 16) ? Verdict::Loopback : Verdict::Pass;
    }
    if (frame[12] == 0x86 && frame[13] == 0xdd) {
        if (size < 14 + 40)
            return Verdict::Truncated;
        return ipv6_blocked(frame + 14 + 24) ? Verdict::Loopback : Verdict::Pass;
    }
    return Verdict::Pass;
}

void check_judge(const uint8_t* data, size_t size)
{
    std::unique_ptr<uint8_t[]> frame(new uint8_t[size]);
    if (size > 0)
        std::memcpy(frame.get(), data, size);
    const auto judgement = portwrap::loopback_guard::judge({frame.get(), size});
    FUZZ_CHECK(judgement.verdict == expected_verdict(frame.get(), size));
    if (judgement.family == AF_UNSPEC) {
        FUZZ_CHECK(judgement.verdict != Verdict::Loopback);
        return;
    }
    FUZZ_CHECK(judgement.family == AF_INET || judgement.family == AF_INET6);
    const size_t offset = judgement.family == AF_INET ? 14 + 16 : 14 + 24;
    const size_t length = judgement.family == AF_INET ? 4 : 16;
    FUZZ_CHECK(std::memcmp(judgement.destination.data(), frame.get() + offset, length) == 0);
    uint8_t parsed[16] = {};
    const std::string text = portwrap::loopback_guard::describe(judgement);
    FUZZ_CHECK(inet_pton(judgement.family, text.c_str(), parsed) == 1);
    FUZZ_CHECK(std::memcmp(parsed, judgement.destination.data(), length) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    check_judge(data, size);
    check_judge(data, size / 2);
    if (size > 0)
        check_judge(data, size - 1);
    return 0;
}
