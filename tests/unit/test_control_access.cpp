#include <string>
#include <variant>

#include "catch.h"
#include "control_access.h"

using namespace portwrap;
using namespace portwrap::control_access;

namespace {

Identity own()
{
    Identity identity;
    identity.uid = 1000;
    identity.net = {3, 4026531840};
    identity.user = {3, 4026531837};
    return identity;
}

Peer host_peer()
{
    Peer peer;
    peer.pid = 4242;
    peer.uid = 1000;
    peer.net = own().net;
    peer.user = own().user;
    return peer;
}

forward::Spec spec(const std::string& text)
{
    auto parsed = forward::parse(text, "127.0.0.1");
    REQUIRE(std::holds_alternative<forward::Spec>(parsed));
    return std::get<forward::Spec>(parsed);
}

}  // namespace

TEST_CASE("a peer in portwrap's namespaces with its uid is allowed", "[control-access]")
{
    CHECK(judge(host_peer(), own()).empty());
}

TEST_CASE("a peer inside the namespace is refused", "[control-access]")
{
    Peer inside = host_peer();
    inside.net = NamespaceId{3, 4026532999};
    inside.user = NamespaceId{3, 4026532998};
    const std::string why = judge(inside, own());
    CHECK(why.find("refused: the requesting process (pid 4242) is in another network namespace") == 0);
    CHECK(why.find("run 'portwrap ctl' on the host") != std::string::npos);
}

TEST_CASE("a peer in another user namespace but the host's network is refused", "[control-access]")
{
    Peer peer = host_peer();
    peer.user = NamespaceId{3, 4026532998};
    CHECK(judge(peer, own()).find("another user namespace") != std::string::npos);
    // the same inode on another device is another namespace
    peer = host_peer();
    peer.net = NamespaceId{4, own().net.inode};
    CHECK(judge(peer, own()).find("another network namespace") != std::string::npos);
}

TEST_CASE("another uid is refused, root included", "[control-access]")
{
    for (uid_t uid : {uid_t{0}, uid_t{1001}, uid_t{65534}}) {
        Peer peer = host_peer();
        peer.uid = uid;
        CHECK(judge(peer, own()) == "refused: the request comes from uid " + std::to_string(uid) +
                                        ", not from portwrap's user (uid 1000)");
    }
}

TEST_CASE("a peer that cannot be verified is refused", "[control-access]")
{
    Peer peer = host_peer();
    peer.net.reset();
    peer.user.reset();
    peer.unreadable = "/proc/4242/ns/net: Permission denied";
    CHECK(judge(peer, own()) == "refused: cannot verify the requesting process (pid 4242): "
                                "/proc/4242/ns/net: Permission denied");
    peer = host_peer();
    peer.exited = true;  // its namespaces may be those of another process with its pid now
    CHECK(judge(peer, own()) == "refused: the requesting process (pid 4242) exited before it could be verified");
}

TEST_CASE("add binds loopback addresses and unix paths", "[control-access]")
{
    for (const char* text : {"0:80", "127.0.0.1:0:80", "127.1.2.3:8080:80", "[::1]:0:80"})
        CHECK(judge_address(spec(text), {"127.0.0.1"}).empty());
    forward::Spec unix_spec;
    unix_spec.unix_path = "/run/user/1000/x.sock";
    CHECK(judge_address(unix_spec, {"127.0.0.1"}).empty());
}

TEST_CASE("add binds another address only if it was given at start", "[control-access]")
{
    const std::string why = judge_address(spec("0.0.0.0:0:22"), {"127.0.0.1"});
    CHECK(why == "refused: 'add' binds loopback addresses only, and 0.0.0.0 was not given when portwrap started: "
                 "to allow it, start portwrap with --host-addr=0.0.0.0 or a -p forward on 0.0.0.0");
    CHECK(judge_address(spec("[::]:0:22"), {"127.0.0.1"}).find("[::] was not given") != std::string::npos);
    CHECK(judge_address(spec("[::ffff:127.0.0.1]:0:22"), {"127.0.0.1"}).find("was not given") != std::string::npos);
    CHECK(judge_address(spec("192.0.2.7:0:22"), {"127.0.0.1", "192.0.2.8"}).find("was not given") !=
          std::string::npos);
    CHECK(judge_address(spec("0.0.0.0:0:22"), {"127.0.0.1", "0.0.0.0"}).empty());
    CHECK(judge_address(spec("192.0.2.7:0:22"), {"192.0.2.7"}).empty());
    // the same address written another way
    CHECK(judge_address(spec("[0:0::0]:0:22"), {"::"}).empty());
    CHECK(judge_address(spec("[2001:db8::1]:0:22"), {"2001:0db8:0:0::1"}).empty());
}
