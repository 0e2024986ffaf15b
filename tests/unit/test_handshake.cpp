#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "catch.h"
#include "fd_pair.h"
#include "handshake.h"

using namespace portwrap;
using namespace portwrap::handshake;

namespace {
struct Pair {
    UniqueFd parent, child;
};
Pair seqpacket_pair()
{
    SocketPair pair = make_socket_pair(SOCK_SEQPACKET | SOCK_CLOEXEC);
    REQUIRE(pair);
    return {std::move(pair.first), std::move(pair.second)};
}
}  // namespace

TEST_CASE("the parent's one-byte messages arrive, and a closed end reads as end-of-file", "[handshake]")
{
    Pair pair = seqpacket_pair();
    REQUIRE(send_to_child(pair.parent.get(), ToChild::MapsWritten));
    REQUIRE(send_to_child(pair.parent.get(), ToChild::Go));
    ToChild got{};
    REQUIRE(receive_from_parent(pair.child.get(), got) == Received::Message);
    CHECK(got == ToChild::MapsWritten);
    REQUIRE(receive_from_parent(pair.child.get(), got) == Received::Message);
    CHECK(got == ToChild::Go);
    pair.parent.reset();
    CHECK(receive_from_parent(pair.child.get(), got) == Received::EndOfFile);
}

TEST_CASE("Ready carries a working fd across, close-on-exec", "[handshake]")
{
    Pair pair = seqpacket_pair();
    auto [read_end, write_end] = make_pipe(0);
    REQUIRE(read_end.valid());

    REQUIRE(send_to_parent(pair.child.get(), ToParent::make(ToParentKind::Ready), write_end.get()));
    write_end.reset();  // only the passed copy is left

    ToParent message;
    UniqueFd passed;
    REQUIRE(receive_from_child(pair.parent.get(), message, passed) == Received::Message);
    CHECK(message.kind == ToParentKind::Ready);
    REQUIRE(passed.valid());
    CHECK((fcntl(passed.get(), F_GETFD) & FD_CLOEXEC) != 0);
    REQUIRE(write(passed.get(), "x", 1) == 1);
    char byte = 0;
    REQUIRE(read(read_end.get(), &byte, 1) == 1);
    CHECK(byte == 'x');
}

TEST_CASE("a failure report keeps its stage, errno and detail, truncated to fit", "[handshake]")
{
    Pair pair = seqpacket_pair();
    const std::string long_text(2000, 'x');
    REQUIRE(
        send_to_parent(pair.child.get(), ToParent::failed(start::Stage::CommandNotFound, ENOENT, "cannot run 'x'")));
    REQUIRE(send_to_parent(pair.child.get(), ToParent::failed(start::Stage::Network, EPERM, long_text)));
    ToParent message;
    UniqueFd passed;
    REQUIRE(receive_from_child(pair.parent.get(), message, passed) == Received::Message);
    CHECK(message.kind == ToParentKind::Failed);
    const start::Failure failure = message.failure();
    CHECK(failure.stage == start::Stage::CommandNotFound);
    CHECK(failure.err == ENOENT);
    CHECK(failure.detail == "cannot run 'x'");
    CHECK(start::exit_status(failure) == 127);
    CHECK_FALSE(passed.valid());
    REQUIRE(receive_from_child(pair.parent.get(), message, passed) == Received::Message);
    CHECK(message.stage == start::Stage::Network);
    CHECK(message.err == EPERM);
    CHECK(std::strlen(message.detail) == sizeof message.detail - 1);
    pair.child.reset();
    CHECK(receive_from_child(pair.parent.get(), message, passed) == Received::EndOfFile);
}

TEST_CASE("a message of the wrong size is an error, not a message", "[handshake]")
{
    Pair pair = seqpacket_pair();
    SECTION("three bytes")
    {
        REQUIRE(send(pair.child.get(), "abc", 3, 0) == 3);
    }
    SECTION("a report cut short by one byte")
    {
        const ToParent report = ToParent::failed(start::Stage::OpenTun, ENOENT, "cannot open /dev/net/tun");
        REQUIRE(send(pair.child.get(), &report, sizeof report - 1, 0) == static_cast<ssize_t>(sizeof report - 1));
    }
    ToParent message;
    UniqueFd passed;
    const Received received = receive_from_child(pair.parent.get(), message, passed);
    const int err = errno;  // before Catch's own work can change it
    CHECK(received == Received::Error);
    CHECK(err == EBADMSG);
    CHECK(message.kind == ToParentKind::Failed);
    CHECK(message.stage == start::Stage::None);  // nothing of it kept
    CHECK(message.detail[0] == '\0');
}

namespace {
// Sends `report` as raw bytes, an fd with it, and returns what the parent's side makes of it.
Received receive_raw(const ToParent& report, int& err, UniqueFd& passed)
{
    Pair pair = seqpacket_pair();
    auto [read_end, write_end] = make_pipe(0);
    REQUIRE(read_end.valid());
    REQUIRE(send_to_parent(pair.child.get(), report, write_end.get()));
    ToParent message;
    const Received received = receive_from_child(pair.parent.get(), message, passed);
    err = errno;
    return received;
}
}  // namespace

TEST_CASE("a report that is no valid report is an error, and its fd is closed", "[handshake]")
{
    ToParent report = ToParent::failed(start::Stage::TunSetIff, EPERM, "cannot create TAP device tap0");
    SECTION("an unknown stage")
    {
        const uint32_t unknown = start::kLastStage + 1;
        std::memcpy(&report.stage, &unknown, sizeof unknown);
    }
    SECTION("a failure at no stage")
    {
        report.stage = start::Stage::None;
    }
    SECTION("an unknown kind (3 was ExecFailed)")
    {
        const uint32_t kind = 3;
        std::memcpy(&report.kind, &kind, sizeof kind);
    }
    SECTION("a negative errno")
    {
        report.err = -1;
    }
    SECTION("an errno beyond the kernel's range")
    {
        report.err = 100000;
    }
    SECTION("garbage")
    {
        unsigned char garbage[sizeof report];
        std::memset(garbage, 0xA5, sizeof garbage);
        std::memcpy(static_cast<void*>(&report), garbage, sizeof report);
    }
    int err = 0;
    UniqueFd passed;
    CHECK(receive_raw(report, err, passed) == Received::Error);
    CHECK(err == EBADMSG);
    CHECK_FALSE(passed.valid());
}

TEST_CASE("a detail without its NUL is cut, never read past", "[handshake]")
{
    ToParent report = ToParent::failed(start::Stage::Network, EPERM, "");
    std::memset(report.detail, 'y', sizeof report.detail);
    Pair pair = seqpacket_pair();
    REQUIRE(send_to_parent(pair.child.get(), report));
    ToParent message;
    UniqueFd passed;
    REQUIRE(receive_from_child(pair.parent.get(), message, passed) == Received::Message);
    CHECK(message.failure().detail == std::string(sizeof message.detail - 1, 'y'));
}

TEST_CASE("Go carries the command's added environment", "[handshake]")
{
    using namespace std::string_literals;
    Pair pair = seqpacket_pair();
    const std::string environment = "PORTWRAP_HOST=127.0.0.1:1\0PORTWRAP_HOST_PORT=1\0"s;
    REQUIRE(send_go(pair.parent.get(), environment));
    REQUIRE(send_go(pair.parent.get(), ""));
    ToChild got{};
    std::string payload;
    REQUIRE(receive_from_parent(pair.child.get(), got, &payload) == Received::Message);
    CHECK(got == ToChild::Go);
    CHECK(payload == environment);
    REQUIRE(receive_from_parent(pair.child.get(), got, &payload) == Received::Message);
    CHECK(payload.empty());
    const bool sent = send_go(pair.parent.get(), std::string(kMaxGoPayload + 1, 'x'));
    const int send_errno = errno;  // before Catch's own work can change it
    CHECK_FALSE(sent);
    CHECK(send_errno == EMSGSIZE);
}
