#include "resolv_conf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "file_text.h"

namespace portwrap::resolv_conf {
namespace {

std::string_view trim(std::string_view text)
{
    const char* space = " \t\r";
    size_t first = text.find_first_not_of(space);
    if (first == std::string_view::npos)
        return {};
    size_t last = text.find_last_not_of(space);
    return text.substr(first, last - first + 1);
}

bool is_loopback(std::string_view address)
{
    std::string text(address.substr(0, address.find('%')));  // drop an IPv6 zone
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (inet_pton(AF_INET6, text.c_str(), &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;  // not an address glibc would use; do not second-guess it
}

struct Parsed {
    bool usable_server = false;             // a nameserver that is not loopback
    std::vector<std::string_view> kept;     // search, domain and options lines
};

Parsed parse(std::string_view host_text)
{
    Parsed parsed;
    while (!host_text.empty()) {
        size_t eol = host_text.find('\n');
        std::string_view line = trim(host_text.substr(0, eol));
        host_text = eol == std::string_view::npos ? std::string_view{} : host_text.substr(eol + 1);
        if (line.empty() || line.front() == '#' || line.front() == ';')
            continue;
        std::string_view keyword = line.substr(0, line.find_first_of(" \t"));
        std::string_view value = trim(line.substr(keyword.size()));
        if (keyword == "nameserver") {
            parsed.usable_server = parsed.usable_server || !is_loopback(value);
        } else if (keyword == "search" || keyword == "domain" || keyword == "options") {
            parsed.kept.push_back(line);
        }
    }
    return parsed;
}

std::string render(const char* why, const std::vector<std::string_view>& nameservers,
                   const std::vector<std::string_view>& kept)
{
    std::string text = std::string("# written by portwrap: ") + why + "\n";
    for (std::string_view server : nameservers) {
        text += "nameserver ";
        text += server;
        text += "\n";
    }
    for (std::string_view line : kept) {
        text += line;
        text += "\n";
    }
    return text;
}

}  // namespace

std::string read_host()
{
    return file_text::read(kPath, 65536).value_or("");
}

std::string with_nameservers(std::string_view host_text, const std::vector<std::string>& nameservers)
{
    return render("--dns", std::vector<std::string_view>(nameservers.begin(), nameservers.end()),
                  parse(host_text).kept);
}

std::optional<std::string> replacement_for(std::string_view host_text, std::string_view nameserver)
{
    const Parsed parsed = parse(host_text);
    // No nameserver line at all means glibc's default, 127.0.0.1: loopback too.
    if (parsed.usable_server)
        return std::nullopt;
    return render("the host's resolvers are on its loopback", {nameserver}, parsed.kept);
}

}  // namespace portwrap::resolv_conf
