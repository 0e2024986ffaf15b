#include "catch.h"
#include "resolv_conf.h"

using portwrap::resolv_conf::replacement_for;

TEST_CASE("a loopback-only resolv.conf is replaced, keeping search and options", "[resolv-conf]")
{
    auto text = replacement_for("# systemd-resolved stub\n"
                                "nameserver 127.0.0.53\n"
                                "options edns0 trust-ad\n"
                                "search cluster.example\n",
                                "10.0.2.3");
    REQUIRE(text.has_value());
    CHECK(text->find("nameserver 10.0.2.3\n") != std::string::npos);
    CHECK(text->find("127.0.0.53") == std::string::npos);
    CHECK(text->find("options edns0 trust-ad\n") != std::string::npos);
    CHECK(text->find("search cluster.example\n") != std::string::npos);
}

TEST_CASE("IPv6 loopback and several loopback servers count as loopback", "[resolv-conf]")
{
    CHECK(replacement_for("nameserver ::1\n", "10.0.2.3").has_value());
    CHECK(replacement_for("nameserver 127.0.0.1\nnameserver 127.1.2.3\n", "10.0.2.3").has_value());
    CHECK(replacement_for("  nameserver\t127.0.0.53  \n", "10.0.2.3").has_value());
}

TEST_CASE("no nameserver at all means glibc's 127.0.0.1 default: replaced", "[resolv-conf]")
{
    CHECK(replacement_for("", "10.0.2.3").has_value());
    CHECK(replacement_for("search example.org\n", "10.0.2.3").has_value());
}

TEST_CASE("any non-loopback server keeps the host's file", "[resolv-conf]")
{
    CHECK_FALSE(replacement_for("nameserver 10.255.255.53\n", "10.0.2.3").has_value());
    CHECK_FALSE(replacement_for("nameserver 127.0.0.53\nnameserver 192.0.2.1\n", "10.0.2.3").has_value());
    CHECK_FALSE(replacement_for("nameserver 2001:db8::1\n", "10.0.2.3").has_value());
    CHECK_FALSE(replacement_for("nameserver fe80::1%eth0\n", "10.0.2.3").has_value());
}

TEST_CASE("comments and unknown words are not servers", "[resolv-conf]")
{
    CHECK(replacement_for("# nameserver 192.0.2.1\n; nameserver 192.0.2.2\nnameserverx 192.0.2.3\n", "10.0.2.3")
              .has_value());
}

TEST_CASE("--dns: the given servers in order, whatever the host names, with its search and options",
          "[resolv-conf]")
{
    const std::string text = portwrap::resolv_conf::with_nameservers(
        "nameserver 192.0.2.53\nsearch hpc.example\noptions ndots:2\n", {"10.0.2.3", "fd00::3"});
    CHECK(text == "# written by portwrap: --dns\n"
                  "nameserver 10.0.2.3\n"
                  "nameserver fd00::3\n"
                  "search hpc.example\n"
                  "options ndots:2\n");
}
