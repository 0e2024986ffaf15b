// --jupyterhub: what a single-user server started by JupyterHub's spawner needs, read
// from the environment the spawner gives it. Pure: the environment comes in through
// a lookup function.
//
//   JUPYTERHUB_SERVICE_URL   http://127.0.0.1:PORT/user/NAME/: the hub's proxy and
//                            health check connect to PORT on the host, so portwrap
//                            listens on exactly that address and port and forwards it
//                            to the same port inside (on 127.0.0.1 there).
//   JUPYTERHUB_API_URL       http://127.0.0.1:8081/hub/api: made reachable inside at
//   JUPYTERHUB_ACTIVITY_URL  the same address through a -T forward, when it is on the
//                            host's loopback; a hub elsewhere is reached through
//                            libslirp like any outside address.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "forward_spec.h"
#include "host_access.h"
#include "self_check.h"

namespace portwrap::jupyterhub {

struct Plan {
    forward::Spec service;                  // the server's port: host side -> same port inside
    std::vector<host_access::Spec> to_host;  // the hub's API (and activity) on host loopback
    std::vector<std::string> outside;        // hub addresses reached through libslirp instead
    // Set when the server must bind elsewhere inside than the URL says: the URL as
    // the command gets it, with the address where the forward delivers.
    std::string service_url_inside;
};

// Returns the value of an environment variable, or nullptr.
using Lookup = std::function<const char*(const char*)>;

// The plan for the environment `getenv` shows, or one line saying what is wrong and
// what to set (without the "portwrap: " prefix). `inside_address`: where the server
// must listen inside for the forward to reach it (127.0.0.1 with the relay port
// driver; 0.0.0.0 with the slirp driver, which delivers to tap0's address).
std::variant<Plan, std::string> plan(const Lookup& getenv, const std::string& inside_address = "127.0.0.1");

// One line per forward, for --check and -v: "127.0.0.1:40123 -> port 40123 inside (the
// single-user server)", "127.0.0.1:8081 inside -> the host's 127.0.0.1:8081 (hub API)".
std::vector<std::string> describe(const Plan& plan);

// --check's "jupyterhub" item: what --jupyterhub would forward in this environment
// (a warning with the fix when it would fail). Nothing when neither
// JUPYTERHUB_SERVICE_URL nor JUPYTERHUB_API_URL is set: not a spawner's environment.
std::optional<self_check::Item> check_item(const Lookup& getenv);

}  // namespace portwrap::jupyterhub
