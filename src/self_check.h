// portwrap --check: what a launch needs, judged item by item. This part is pure: it
// turns the facts gathered on the machine (self_check_probe.h) into one verdict per
// item, each with a fix when it is not ok, and formats them. docs/troubleshooting.md
// ("Checking a machine: portwrap --check") documents the output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "id_map.h"
#include "start_failure.h"
#include "subid.h"

namespace portwrap::self_check {

enum class Status {
    Ok,       // present and working (tried for real where the item says so)
    Warning,  // a launch still works, with less (e.g. the single-id map)
    Fail,     // a launch would fail
    Skipped,  // not tried, because an item it depends on failed
};

struct Item {
    Status status = Status::Ok;
    std::string name;    // stable key: "kernel", "/dev/net/tun", "user.max_user_namespaces", ...
    std::string detail;  // what was found
    std::string fix;     // what to do; empty for ok and skipped items
};

// A sysctl under /proc/sys: its value, or nothing when the kernel has no such file.
using Sysctl = std::optional<long>;

// newuidmap or newgidmap as portwrap finds it (id_map::find_helper).
using id_map::HelperFacts;

// stat() of /dev/net/tun.
struct TunFacts {
    int stat_errno = 0;  // 0: it exists
    bool char_device = false;
    unsigned major = 0;
    unsigned minor = 0;
    uint32_t mode = 0;  // permission bits only
};

// The trial start-up in throwaway namespaces: where it stopped, as the launch's own
// report (start_failure.h) says. Verdicts and fixes come from the stage and errno,
// never from the message's words.
struct ProbeResult {
    bool ran = false;  // false: not tried at all (elevated privileges)
    start::Stage failed_at = start::Stage::None;  // None: namespaces, maps, tap0 and its network worked
    int err = 0;         // the failing step's errno; 0: none, or the message says it
    std::string error;   // the message a launch would print (without its hint)
    bool used_helpers = false;  // the map was written by newuidmap/newgidmap
    uint64_t uids_mapped = 0;
    uint64_t gids_mapped = 0;
    uint32_t uid_inside = 0;
    uint32_t gid_inside = 0;
};

struct Facts {
    std::string kernel_release;  // uname -r
    std::string machine;         // uname -m
    bool elevated = false;       // AT_SECURE: setuid, setgid or file capabilities
    std::string exe_path;        // /proc/self/exe, for the fixes
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::string user_name;  // from /etc/passwd, else $USER; may be empty
    Sysctl max_user_namespaces;
    Sysctl unprivileged_userns_clone;
    Sysctl apparmor_restrict_unprivileged_userns;
    // File contents; nullopt when it could not be read (the errno says why).
    std::optional<std::string> subuid_text;
    int subuid_errno = 0;
    std::optional<std::string> subgid_text;
    int subgid_errno = 0;
    HelperFacts newuidmap;
    HelperFacts newgidmap;
    TunFacts tun;
    ProbeResult probe;
    // Why the handoff port driver is unavailable here (handoff_filter.h); nullopt: it is.
    std::optional<std::string> handoff_unavailable;
};

// "6.1.0-18-amd64" -> {6, 1}.
std::optional<std::pair<int, int>> parse_kernel_release(std::string_view release);

// What /etc/subuid (or /etc/subgid) says about one owner, as portwrap reads it
// (subid::ranges_for), plus the lines naming the owner that portwrap ignores.
struct SubidFindings {
    std::vector<subid::Range> ranges;
    std::vector<std::string> malformed;  // "line N: 'TEXT'"
};
SubidFindings inspect_subid(std::string_view text, uint32_t id, const std::string& name);

// The lowest start, a multiple of `count` and at least 100000 (login.defs'
// SUB_UID_MIN), above every range in both files: a range an admin can hand out.
uint32_t suggest_range_start(std::string_view subuid_text, std::string_view subgid_text, uint32_t count);

// The sum of the counts in a /proc/PID/uid_map (or gid_map) text.
uint64_t count_mapped_ids(std::string_view map_text);

// The verdict on every item, in output order.
std::vector<Item> assess(const Facts& facts);

// "STATUS  NAME: DETAIL" and, when there is a fix, "; fix: FIX". STATUS is ok,
// warning, FAIL or skipped, padded to 7 characters.
std::string format_item(const Item& item);

// The last line: "summary: ..." naming the FAIL and warning counts.
std::string summary_line(const std::vector<Item>& items, const Facts& facts);

// 0 when no item failed (a launch would work), else 1.
int exit_status(const std::vector<Item>& items);

}  // namespace portwrap::self_check
