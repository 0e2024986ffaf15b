#include "jupyterhub.h"

#include <arpa/inet.h>

#include <algorithm>

namespace portwrap::jupyterhub {
namespace {

constexpr const char* kServiceUrl = "JUPYTERHUB_SERVICE_URL";
constexpr const char* kApiUrl = "JUPYTERHUB_API_URL";
constexpr const char* kActivityUrl = "JUPYTERHUB_ACTIVITY_URL";

struct Url {
    std::string scheme, host, rest;  // host without brackets; rest: "/path..." or ""
    uint16_t port = 0;
};

// "http://HOST[:PORT][/...]" with HOST an IPv4 address, [IPv6] or a name. Returns an
// error message or "".
std::string parse_url(const std::string& name, const std::string& text, Url& url)
{
    const std::string bad = name + "='" + text + "' is not a URL portwrap understands (expected http://HOST:PORT/...)";
    const size_t scheme_end = text.find("://");
    if (scheme_end == std::string::npos)
        return bad;
    url.scheme = text.substr(0, scheme_end);
    if (url.scheme != "http" && url.scheme != "https")
        return bad;
    std::string authority = text.substr(scheme_end + 3);
    if (const size_t slash = authority.find('/'); slash != std::string::npos) {
        url.rest = authority.substr(slash);
        authority.resize(slash);
    }
    std::string port;
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string::npos)
            return bad;
        url.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':')
                return bad;
            port = authority.substr(close + 2);
        }
    } else if (const size_t colon = authority.find(':'); colon != std::string::npos) {
        url.host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    } else {
        url.host = authority;
    }
    if (port.empty()) {
        url.port = url.scheme == "https" ? 443 : 80;
        return "";
    }
    unsigned value = 0;
    for (char c : port)
        value = c >= '0' && c <= '9' && value <= 65535 ? value * 10 + static_cast<unsigned>(c - '0') : 70000;
    if (port.size() > 5 || value == 0 || value > 65535)
        return bad;
    url.port = static_cast<uint16_t>(value);
    return "";
}

bool is_numeric(const std::string& host, bool* ipv6)
{
    return forward::parse_address(host, ipv6);
}

// Inside libslirp's own network (10.0.2.0/24, fd00::/64): the namespace has these
// addresses itself, so a hub there cannot be reached from inside.
bool shadowed_by_guest_network(const std::string& host)
{
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
        return (ntohl(v4.s_addr) & 0xffffff00u) == 0x0a000200u;
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) != 1)
        return false;
    static const unsigned char prefix[8] = {0xfd, 0, 0, 0, 0, 0, 0, 0};
    return std::equal(prefix, prefix + 8, v6.s6_addr);
}

bool is_unspecified(const std::string& host)
{
    return host == "0.0.0.0" || host == "::";
}

// The hub API's (or activity URL's) address: a -T forward when it is on the host's
// loopback, nothing when libslirp reaches it. An error message, or "".
std::string add_hub_address(const char* name, const std::string& text, Plan& plan)
{
    Url url;
    if (std::string error = parse_url(name, text, url); !error.empty())
        return error;
    const std::string where = host_access::join(url.host, url.port);
    bool ipv6 = false;
    host_access::Spec spec;
    spec.guest_port = url.port;
    spec.host_port = url.port;
    if (url.host == "localhost") {
        // No GUEST_ADDR: 127.0.0.1 and ::1 inside, whichever "localhost" resolves to.
    } else if (host_access::is_loopback(url.host)) {
        spec.guest_addr = url.host;
        spec.host_addr = url.host;
    } else if (is_unspecified(url.host) || url.host.empty()) {
        return std::string(name) + " names " + where +
               ", which inside the namespace is the namespace itself: set c.JupyterHub.hub_connect_ip "
               "to 127.0.0.1 or to an address of the host";
    } else if (is_numeric(url.host, &ipv6) && shadowed_by_guest_network(url.host)) {
        return std::string(name) + " names " + where +
               ", inside the namespace's own network (10.0.2.0/24, fd00::/64), which hides it: "
               "set c.JupyterHub.hub_connect_ip to 127.0.0.1 or to another address of the hub";
    } else {
        // Not the host's loopback: libslirp connects there from the host like any
        // outside address (a name is resolved inside, with the namespace's DNS).
        for (const std::string& have : plan.outside)
            if (have == where)
                return "";
        plan.outside.push_back(where);
        return "";
    }
    for (const host_access::Spec& have : plan.to_host)
        if (have == spec)
            return "";
    plan.to_host.push_back(spec);
    return "";
}

}  // namespace

std::variant<Plan, std::string> plan(const Lookup& getenv, const std::string& inside_address)
{
    Plan result;
    const char* service = getenv(kServiceUrl);
    if (!service || !*service)
        return std::string("--jupyterhub: ") + kServiceUrl +
               " is not set: run portwrap --jupyterhub as the command of JupyterHub's spawner "
               "(c.Spawner.cmd = ['portwrap', '--jupyterhub', '--', 'jupyterhub-singleuser']), "
               "which sets it (JupyterHub 2.0 or later)";
    const char* api = getenv(kApiUrl);
    if (!api || !*api)
        return std::string("--jupyterhub: ") + kApiUrl +
               " is not set: run portwrap --jupyterhub as the command of JupyterHub's spawner, which sets it";
    Url url;
    if (std::string error = parse_url(kServiceUrl, service, url); !error.empty())
        return "--jupyterhub: " + error;
    // The host side listens where the URL says (the hub's proxy connects there); inside,
    // the server is told to bind where the forward delivers (0.0.0.0 covers it all).
    std::string host = url.host == "localhost" ? "127.0.0.1" : url.host.empty() ? "0.0.0.0" : url.host;
    bool ipv6 = false;
    if (!is_numeric(host, &ipv6))
        return std::string("--jupyterhub: ") + kServiceUrl + "='" + service + "' names the host '" + url.host +
               "', not an address portwrap can listen on: set c.Spawner.ip to 127.0.0.1 (or another address "
               "of this machine)";
    result.service.ipv6 = ipv6;
    result.service.host_addr = host;
    result.service.host_port = url.port;
    result.service.guest_port = url.port;
    if (host != inside_address && host != "0.0.0.0")
        result.service_url_inside = url.scheme + "://" + inside_address + ":" + std::to_string(url.port) + url.rest;

    if (std::string error = add_hub_address(kApiUrl, api, result); !error.empty())
        return "--jupyterhub: " + error;
    if (const char* activity = getenv(kActivityUrl); activity && *activity)
        if (std::string error = add_hub_address(kActivityUrl, activity, result); !error.empty())
            return "--jupyterhub: " + error;
    return result;
}

std::vector<std::string> describe(const Plan& plan)
{
    std::vector<std::string> lines;
    lines.push_back(forward::host_side(plan.service) + " -> port " + std::to_string(plan.service.guest_port) +
                    " inside (the single-user server)");
    for (const host_access::Spec& spec : plan.to_host)
        lines.push_back(host_access::describe(spec) + " (the hub API)");
    for (const std::string& where : plan.outside)
        lines.push_back(where + ": the hub API, reached through libslirp (not on the host's loopback)");
    return lines;
}

std::optional<self_check::Item> check_item(const Lookup& getenv)
{
    if (!getenv(kServiceUrl) && !getenv(kApiUrl))
        return std::nullopt;
    self_check::Item item{self_check::Status::Ok, "jupyterhub", "", ""};
    auto planned = plan(getenv);
    if (const auto* error = std::get_if<std::string>(&planned)) {
        // A plain launch still works; only --jupyterhub would fail.
        item.status = self_check::Status::Warning;
        const std::string what = error->substr(std::string("--jupyterhub: ").size());
        const size_t colon = what.find(": ");
        item.detail = "--jupyterhub would fail: " + what.substr(0, colon);
        item.fix = colon == std::string::npos ? "see portwrap(1), --jupyterhub" : what.substr(colon + 2);
        return item;
    }
    item.detail = "--jupyterhub would forward ";
    const auto lines = describe(std::get<Plan>(planned));
    for (size_t i = 0; i < lines.size(); ++i)
        item.detail += (i ? "; " : "") + lines[i];
    return item;
}

}  // namespace portwrap::jupyterhub
