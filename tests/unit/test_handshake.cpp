#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "catch.h"
#include "handshake.h"

using namespace portwrap;
using namespace portwrap::handshake;

namespace {
struct Pair {
    UniqueFd parent, child;
};
Pair seqpacket_pair()
{
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
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
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

    REQUIRE(send_to_parent(pair.child.get(), ToParent::make(ToParentKind::Ready, 0, ""), write_end.get()));
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

TEST_CASE("failure messages keep their text and exit status, truncated to fit", "[handshake]")
{
    Pair pair = seqpacket_pair();
    const std::string long_text(2000, 'x');
    REQUIRE(send_to_parent(pair.child.get(), ToParent::make(ToParentKind::ExecFailed, 127, "cannot run 'x'")));
    REQUIRE(send_to_parent(pair.child.get(), ToParent::make(ToParentKind::Failed, 125, long_text)));
    ToParent message;
    UniqueFd passed;
    REQUIRE(receive_from_child(pair.parent.get(), message, passed) == Received::Message);
    CHECK(message.kind == ToParentKind::ExecFailed);
    CHECK(message.exit_status == 127);
    CHECK(std::string(message.text) == "cannot run 'x'");
    CHECK_FALSE(passed.valid());
    REQUIRE(receive_from_child(pair.parent.get(), message, passed) == Received::Message);
    CHECK(std::strlen(message.text) == sizeof message.text - 1);
    pair.child.reset();
    CHECK(receive_from_child(pair.parent.get(), message, passed) == Received::EndOfFile);
}

TEST_CASE("a message of the wrong size is an error, not a message", "[handshake]")
{
    Pair pair = seqpacket_pair();
    REQUIRE(send(pair.child.get(), "abc", 3, 0) == 3);
    ToParent message;
    UniqueFd passed;
    CHECK(receive_from_child(pair.parent.get(), message, passed) == Received::Error);
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
