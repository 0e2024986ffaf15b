// DNS inside the namespace. libslirp answers DNS on 10.0.2.3 by forwarding to the
// host's resolver, but the command reads the host's /etc/resolv.conf, and on many
// machines that names only a loopback resolver (systemd-resolved's 127.0.0.53,
// dnsmasq, nscd-like caches). Inside the namespace, loopback is the namespace's own,
// where no resolver runs. Text logic here (pure but for read_host); the child mounts
// the result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portwrap::resolv_conf {

inline constexpr const char* kPath = "/etc/resolv.conf";

// The host's /etc/resolv.conf (its first 64 KiB), or "" if it cannot be read.
std::string read_host();

// The resolv.conf the command should see instead of `host_text`, or nothing when the
// host's file works inside as it is (it names at least one non-loopback server).
// The replacement names `nameserver` and keeps the search, domain and options lines.
std::optional<std::string> replacement_for(std::string_view host_text, std::string_view nameserver);

// The resolv.conf for --dns: `nameservers`, in order, with the host's search, domain
// and options lines.
std::string with_nameservers(std::string_view host_text, const std::vector<std::string>& nameservers);

}  // namespace portwrap::resolv_conf
