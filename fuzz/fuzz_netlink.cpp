// libFuzzer harness for the rtnetlink reply decoder, portwrap::rtnetlink::decode_ack.
//
// Input layout: bytes 0-3 are the sequence number the caller waits for
// (little-endian); the rest is the reply buffer as recv() filled it.
//
// The buffer is copied to a heap block of exactly its size, so AddressSanitizer
// reports any read past the end; so are two prefixes of it (a reply cut short).
// The result must be what rtnetlink.h describes, as expected_ack() below spells it
// out: 0 for success, a positive errno (1..4095, the kernel's MAX_ERRNO) for a
// rejected request, -1 if the buffer holds no acknowledgement for the sequence number.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "rtnetlink.h"

namespace {

// The checks are the oracle, not the code under test: no coverage feedback from them
// (it would only make libFuzzer keep inputs that differ in what the checks did).
#define FUZZ_ORACLE __attribute__((no_sanitize("coverage")))

[[noreturn]] void violated(const char* what, int result, int expected)
{
    std::fprintf(stderr, "fuzz_netlink: invariant violated: %s (result %d, expected %d)\n", what, result, expected);
    std::abort();
}

#define FUZZ_CHECK(cond, result, expected)          \
    do {                                            \
        if (!(cond))                                \
            violated(#cond, (result), (expected));  \
    } while (0)

constexpr int kMaxErrno = 4095;
constexpr size_t kHeaderSize = 16;                      // struct nlmsghdr
constexpr size_t kAckSize = kHeaderSize + 4 + kHeaderSize;  // header + struct nlmsgerr
constexpr uint16_t kTypeError = 2;                      // NLMSG_ERROR

uint32_t load_u32(const uint8_t* p)
{
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

struct Expected {
    int result = -1;
};

// What decode_ack should return, worked out independently: walk the messages (each
// starts at a 4-byte boundary); a message whose length is below a header or past the
// end makes the reply unusable (-1); the first NLMSG_ERROR with the sequence number
// is the acknowledgement: too short for its error field -1, error 0 success, error
// -E (E up to 4095) the errno E, anything else -1.
FUZZ_ORACLE Expected expected_ack(const uint8_t* buffer, size_t size, uint32_t seq)
{
    Expected e;
    size_t offset = 0;
    while (size - offset >= kHeaderSize) {
        const uint32_t length = load_u32(buffer + offset);
        uint16_t type;
        std::memcpy(&type, buffer + offset + 4, sizeof type);
        const uint32_t message_seq = load_u32(buffer + offset + 8);
        if (length < kHeaderSize || length > size - offset)
            return e;
        if (type == kTypeError && message_seq == seq) {
            if (length < kAckSize)
                return e;
            const int32_t error = static_cast<int32_t>(load_u32(buffer + offset + kHeaderSize));
            if (error <= 0 && error >= -kMaxErrno)
                e.result = -error;
            return e;
        }
        const size_t next = offset + ((size_t{length} + 3) & ~size_t{3});
        if (next > size)
            return e;
        offset = next;
    }
    return e;
}

void check_decode(const uint8_t* data, size_t length, uint32_t seq)
{
    // An exactly sized copy (new[] of 0 bytes is a valid block of size 0).
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[length]);
    if (length > 0)
        std::memcpy(buffer.get(), data, length);

    const Expected expected = expected_ack(buffer.get(), length, seq);
    const int result = portwrap::rtnetlink::decode_ack(buffer.get(), length, seq);
    FUZZ_CHECK(result >= -1 && result <= kMaxErrno, result, expected.result);
    FUZZ_CHECK(result == expected.result, result, expected.result);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 4)
        return 0;
    const uint32_t seq = load_u32(data);
    const uint8_t* reply = data + 4;
    const size_t length = size - 4;

    check_decode(reply, length, seq);
    // The same reply cut short, in the middle or by one byte.
    check_decode(reply, length / 2, seq);
    if (length > 0)
        check_decode(reply, length - 1, seq);
    return 0;
}
