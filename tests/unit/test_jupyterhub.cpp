#include <map>

#include "catch.h"
#include "jupyterhub.h"

using namespace portwrap;

namespace {
using Env = std::map<std::string, std::string>;

std::variant<jupyterhub::Plan, std::string> plan_for(const Env& env)
{
    return jupyterhub::plan([&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}
jupyterhub::Plan plan_ok(const Env& env)
{
    auto result = plan_for(env);
    if (const auto* error = std::get_if<std::string>(&result))
        FAIL("expected a plan, got " << *error);
    return std::get<jupyterhub::Plan>(result);
}
std::string plan_error(const Env& env)
{
    auto result = plan_for(env);
    REQUIRE(std::holds_alternative<std::string>(result));
    return std::get<std::string>(result);
}
const Env kStock = {{"JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:40123/user/ada/"},
                    {"JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"},
                    {"JUPYTERHUB_ACTIVITY_URL", "http://127.0.0.1:8081/hub/api/users/ada/activity"}};
}  // namespace

TEST_CASE("the stock spawner environment: the server's port, and the hub API through -T", "[jupyterhub]")
{
    const auto plan = plan_ok(kStock);
    CHECK(forward::host_side(plan.service) == "127.0.0.1:40123");
    CHECK(plan.service.guest_port == 40123);
    REQUIRE(plan.to_host.size() == 1);  // the activity URL is the same host:port
    CHECK(plan.to_host[0] == host_access::Spec{"127.0.0.1", 8081, "127.0.0.1", 8081});
    CHECK(plan.outside.empty());
    CHECK(plan.service_url_inside.empty());
    CHECK(jupyterhub::describe(plan) ==
          std::vector<std::string>{"127.0.0.1:40123 -> port 40123 inside (the single-user server)",
                                   "127.0.0.1:8081 inside -> the host's 127.0.0.1:8081 (the hub API)"});
}

TEST_CASE("IPv6 and other addresses for the server: listen there, bind 127.0.0.1 inside", "[jupyterhub]")
{
    Env env = kStock;
    env["JUPYTERHUB_SERVICE_URL"] = "http://[::1]:40123/user/ada/";
    auto plan = plan_ok(env);
    CHECK(forward::host_side(plan.service) == "[::1]:40123");
    CHECK(plan.service_url_inside == "http://127.0.0.1:40123/user/ada/");
    env["JUPYTERHUB_SERVICE_URL"] = "http://0.0.0.0:40123/user/ada/";
    CHECK(plan_ok(env).service_url_inside.empty());
    env["JUPYTERHUB_SERVICE_URL"] = "http://localhost:40123/";
    CHECK(forward::host_side(plan_ok(env).service) == "127.0.0.1:40123");
}

TEST_CASE("hub addresses: loopback through -T, elsewhere through libslirp", "[jupyterhub]")
{
    Env env = kStock;
    env["JUPYTERHUB_API_URL"] = "http://[::1]:8081/hub/api";
    auto plan = plan_ok(env);
    REQUIRE(plan.to_host.size() == 2);  // the activity URL stays on 127.0.0.1
    CHECK(plan.to_host[0] == host_access::Spec{"::1", 8081, "::1", 8081});
    env["JUPYTERHUB_API_URL"] = "http://localhost:8081/hub/api";
    CHECK(plan_ok(env).to_host[0] == host_access::Spec{"", 8081, "127.0.0.1", 8081});
    env["JUPYTERHUB_API_URL"] = "https://192.0.2.7/hub/api";
    env.erase("JUPYTERHUB_ACTIVITY_URL");
    plan = plan_ok(env);
    CHECK(plan.to_host.empty());
    CHECK(plan.outside == std::vector<std::string>{"192.0.2.7:443"});
}

TEST_CASE("--jupyterhub fails with one line saying what to set", "[jupyterhub]")
{
    Env env = kStock;
    env.erase("JUPYTERHUB_SERVICE_URL");
    CHECK(plan_error(env).find("JUPYTERHUB_SERVICE_URL is not set") != std::string::npos);
    CHECK(plan_error(env).find("c.Spawner.cmd") != std::string::npos);
    env = kStock;
    env.erase("JUPYTERHUB_API_URL");
    CHECK(plan_error(env).find("JUPYTERHUB_API_URL is not set") != std::string::npos);
    env = kStock;
    env["JUPYTERHUB_API_URL"] = "http://10.0.2.15:8081/hub/api";
    CHECK(plan_error(env).find("hub_connect_ip") != std::string::npos);
    env["JUPYTERHUB_API_URL"] = "http://0.0.0.0:8081/hub/api";
    CHECK(plan_error(env).find("hub_connect_ip") != std::string::npos);
    env = kStock;
    env["JUPYTERHUB_SERVICE_URL"] = "http://node7:40123/";
    CHECK(plan_error(env).find("c.Spawner.ip") != std::string::npos);
    env["JUPYTERHUB_SERVICE_URL"] = "127.0.0.1:40123";
    CHECK(plan_error(env).find("is not a URL") != std::string::npos);
    env["JUPYTERHUB_SERVICE_URL"] = "http://127.0.0.1:0/";
    CHECK(plan_error(env).find("is not a URL") != std::string::npos);
}

TEST_CASE("--check: a jupyterhub item only in a spawner's environment", "[jupyterhub]")
{
    const auto check = [](const Env& env) {
        return jupyterhub::check_item([&](const char* name) -> const char* {
            auto it = env.find(name);
            return it == env.end() ? nullptr : it->second.c_str();
        });
    };
    CHECK_FALSE(check({}).has_value());
    auto item = check(kStock);
    REQUIRE(item.has_value());
    CHECK(item->status == self_check::Status::Ok);
    CHECK(self_check::format_item(*item) ==
          "ok      jupyterhub: --jupyterhub would forward 127.0.0.1:40123 -> port 40123 inside (the single-user "
          "server); 127.0.0.1:8081 inside -> the host's 127.0.0.1:8081 (the hub API)");
    Env env = kStock;
    env.erase("JUPYTERHUB_SERVICE_URL");
    item = check(env);
    REQUIRE(item.has_value());
    CHECK(item->status == self_check::Status::Warning);
    CHECK(item->detail == "--jupyterhub would fail: JUPYTERHUB_SERVICE_URL is not set");
    CHECK(item->fix.find("c.Spawner.cmd") != std::string::npos);
}

TEST_CASE("with the slirp port driver the server binds 0.0.0.0 inside", "[jupyterhub]")
{
    auto result = jupyterhub::plan(
        [](const char* name) -> const char* {
            auto it = kStock.find(name);
            return it == kStock.end() ? nullptr : it->second.c_str();
        },
        "0.0.0.0");
    REQUIRE(std::holds_alternative<jupyterhub::Plan>(result));
    CHECK(std::get<jupyterhub::Plan>(result).service_url_inside == "http://0.0.0.0:40123/user/ada/");
}
