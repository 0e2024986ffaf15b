#include "self_check.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace portwrap::self_check {
namespace {

constexpr uint32_t kSuggestedCount = 65536;
constexpr const char* kTun = "/dev/net/tun";
constexpr const char* kAppArmorSysctl = "kernel.apparmor_restrict_unprivileged_userns";
constexpr const char* kTroubleshooting = "docs/troubleshooting.md";

using start::Stage;

// The trial stopped at one of these: tap0 was not made.
bool tun_failed(Stage stage)
{
    return stage == Stage::OpenTun || stage == Stage::TunSetIff;
}

// The trial stopped before the network set-up was tried.
bool stopped_before_network(const ProbeResult& p)
{
    return !p.ran || p.failed_at == Stage::Clone || p.failed_at == Stage::IdMap || tun_failed(p.failed_at);
}

std::optional<uint32_t> parse_u32(std::string_view text)
{
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::string octal_mode(uint32_t mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode & 07777);
    return text;
}

// "portwrap-test (uid 1001)" or "uid 1001".
std::string who(const Facts& facts)
{
    std::string id = "uid " + std::to_string(facts.uid);
    return facts.user_name.empty() ? id : facts.user_name + " (" + id + ")";
}

// The owner field for a new /etc/subuid line: the name, or the uid when there is none.
std::string owner_field(const Facts& facts)
{
    return facts.user_name.empty() ? std::to_string(facts.uid) : facts.user_name;
}

std::string ranges_text(const std::vector<subid::Range>& ranges)
{
    std::string text;
    for (const auto& r : ranges)
        text += (text.empty() ? "" : ", ") + std::to_string(r.start) + "-" +
                std::to_string(uint64_t{r.start} + r.count - 1);
    return text;
}

uint64_t total(const std::vector<subid::Range>& ranges)
{
    uint64_t sum = 0;
    for (const auto& r : ranges)
        sum += r.count;
    return sum;
}

struct SubidView {
    const char* file;       // "/etc/subuid"
    const char* other;      // "/etc/subgid"
    const char* kind;       // "uid"
    uint32_t own = 0;       // the user's own uid (or gid)
    std::optional<std::string> text;
    int read_errno = 0;
    SubidFindings findings;
};

// The /etc/subuid or /etc/subgid line. `used` is make_plan's condition: both files
// give the user ranges, so newuidmap/newgidmap map them.
Item assess_subid(const Facts& facts, const SubidView& view, bool other_has_ranges, bool helpers_found,
                  uint32_t suggested_start)
{
    Item item{Status::Ok, view.file, "", ""};
    const std::string line = owner_field(facts) + ":" + std::to_string(suggested_start) + ":" +
                             std::to_string(kSuggestedCount);
    const std::string usermod_option = std::string("--add-sub") + view.kind + "s";
    // usermod needs a name; a user known only by uid gets the line itself.
    const std::string usermod =
        facts.user_name.empty()
            ? "add the line '" + line + "' to " + view.file
            : "usermod " + usermod_option + " " + std::to_string(suggested_start) + "-" +
                  std::to_string(uint64_t{suggested_start} + kSuggestedCount - 1) + " " + facts.user_name +
                  " (adds the line '" + line + "' to " + view.file + ")";
    const std::string add_fix = "optional, as root: " + usermod;
    std::string malformed;
    for (const auto& m : view.findings.malformed)
        malformed += "; ignored malformed " + m;

    if (!view.text && view.read_errno != ENOENT) {
        item.status = Status::Warning;
        item.detail = std::string("cannot read it: ") + std::strerror(view.read_errno) +
                      ", so portwrap maps only the user's own " + view.kind;
        item.fix = std::string("as root: chmod 0644 ") + view.file;
        return item;
    }
    if (view.findings.ranges.empty()) {
        item.status = Status::Warning;
        item.detail = std::string(view.text ? "no entry" : "the file does not exist, so no entry") + " for " +
                      who(facts) + malformed + ": portwrap maps only " + view.kind + " " +
                      std::to_string(view.own) + " into the namespace (enough for most servers)";
        item.fix = view.findings.malformed.empty()
                       ? add_fix
                       : "as root: correct the malformed line (format NAME:START:COUNT), or " + usermod;
        return item;
    }
    const std::string found = ranges_text(view.findings.ranges) + " (" + std::to_string(total(view.findings.ranges)) +
                              " subordinate " + view.kind + "s)" + malformed;
    if (!other_has_ranges) {
        item.status = Status::Warning;
        item.detail = found + ", but " + view.other + " has none for " + who(facts) +
                      ", so portwrap does not use them and maps only " + view.kind + " " + std::to_string(view.own);
        item.fix = std::string("see the ") + view.other + " line";
        return item;
    }
    if (!helpers_found) {
        item.status = Status::Warning;
        item.detail = found + ", but newuidmap/newgidmap are missing or unusable, so portwrap does not use them and maps only " +
                      view.kind + " " + std::to_string(view.own);
        item.fix = "see the newuidmap and newgidmap lines";
        return item;
    }
    for (const auto& r : view.findings.ranges) {
        if (view.own >= r.start && uint64_t{view.own} < uint64_t{r.start} + r.count) {
            // plan_map maps each id once, so this works; say so, since it is unusual.
            item.status = Status::Warning;
            item.detail = found + ": the range " + ranges_text({r}) + " contains the user's own " + view.kind + " " +
                          std::to_string(view.own) + ", which portwrap maps once, as the user, and the rest around it";
            item.fix = std::string("optional, as root: replace that range in ") + view.file +
                       " with one that leaves out " + std::to_string(view.own) + ", e.g. '" + line + "'";
            return item;
        }
    }
    item.detail = found;
    if (!malformed.empty()) {
        item.status = Status::Warning;
        item.fix = std::string("as root: correct or remove the malformed lines in ") + view.file +
                   " (format NAME:START:COUNT)";
    }
    return item;
}

// wanted: the user has subordinate ids in both files; used: and both helpers pass
// id_map::helper_problem, the judgement make_plan applies.
Item assess_helper(const Facts& facts, const char* name, const HelperFacts& helper, bool wanted, bool used)
{
    Item item{Status::Ok, name, "", ""};
    const std::string not_used = used     ? ""
                                 : wanted ? "; unused: its twin is missing or unusable, so portwrap uses the single-id map"
                                          : "; not used: the user has no subordinate ids in both files";
    const std::string problem = id_map::helper_problem(helper, facts.uid);
    if (helper.path.empty()) {
        item.status = Status::Warning;
        item.detail = problem + (wanted ? ": portwrap falls back to the single-id map, and the user's subordinate "
                                          "ids stay unused"
                                        : " (not needed while the user has no subordinate ids)");
        item.fix = "as root: apt-get install uidmap (Debian, Ubuntu); portwrap never takes it from PATH";
        return item;
    }
    if (problem.empty()) {
        const char* how = helper.setuid_root        ? " (setuid root"
                          : helper.file_capabilities ? " (file capabilities"
                                                     : " (root's, run by root";
        item.detail = helper.path + how + not_used + ")";
        return item;
    }
    item.status = Status::Warning;
    item.detail = helper.path + " " + problem + ", so portwrap does not run it: it maps only the user's own ids" +
                  (wanted ? "" : not_used);
    item.fix = "as root: apt-get install --reinstall uidmap, or chown root: " + helper.path + " && chmod 4755 " +
               helper.path;
    return item;
}

std::string apparmor_fix(const Facts& facts)
{
    return std::string("as root: sysctl -w ") + kAppArmorSysctl + "=0, or load an AppArmor profile that allows "
           "'userns,' for " + (facts.exe_path.empty() ? "the portwrap binary" : facts.exe_path) + " (" +
           kTroubleshooting + ", 'Enabling user namespaces')";
}

bool apparmor_denies(const Facts& facts)
{
    const ProbeResult& p = facts.probe;
    const bool inside = p.failed_at == Stage::TunSetIff || p.failed_at == Stage::FindTap ||
                        p.failed_at == Stage::Network || p.failed_at == Stage::MountProc;
    return facts.apparmor_restrict_unprivileged_userns.value_or(0) != 0 && inside &&
           (p.err == EPERM || p.err == EACCES);
}

std::string not_tried(const Facts& facts)
{
    if (!facts.probe.ran)
        return "not tried: portwrap runs with elevated privileges";
    switch (facts.probe.failed_at) {
    case Stage::Clone: return "not tried: no user namespace could be created";
    case Stage::IdMap: return "not tried: the id maps could not be written";
    case Stage::OpenTun:
    case Stage::TunSetIff: return "not tried: tap0 could not be created";
    default: return "not tried";
    }
}

Item assess_userns(const Facts& facts)
{
    Item item{Status::Ok, "userns", "", ""};
    const ProbeResult& p = facts.probe;
    if (!p.ran) {
        item.status = Status::Skipped;
        item.detail = not_tried(facts);
        return item;
    }
    if (p.failed_at != Stage::Clone) {
        item.detail = "created a user namespace and a network namespace";
        return item;
    }
    item.status = Status::Fail;
    item.detail = std::string("cannot create a user namespace and a network namespace: ") + std::strerror(p.err);
    if (facts.max_user_namespaces == 0L)
        item.fix = "see the user.max_user_namespaces line";
    else if (facts.unprivileged_userns_clone == 0L)
        item.fix = "see the kernel.unprivileged_userns_clone line";
    else
        item.fix = start::hint(Stage::Clone, p.err);
    return item;
}

Item assess_id_map(const Facts& facts)
{
    Item item{Status::Ok, "id-map", "", ""};
    const ProbeResult& p = facts.probe;
    if (!p.ran || p.failed_at == Stage::Clone) {
        item.status = Status::Skipped;
        item.detail = not_tried(facts);
        return item;
    }
    if (p.failed_at != Stage::IdMap) {
        const std::string ids = "uid " + std::to_string(p.uid_inside) + " and gid " + std::to_string(p.gid_inside) +
                                " inside";
        if (p.used_helpers)
            item.detail = "newuidmap and newgidmap mapped " + std::to_string(p.uids_mapped) + " uids and " +
                          std::to_string(p.gids_mapped) + " gids into a test namespace; " + ids;
        else
            item.detail = "portwrap wrote a single-id map into a test namespace; " + ids + ", no other ids";
        return item;
    }
    item.status = Status::Fail;
    item.detail = p.error;
    item.fix = start::hint(Stage::IdMap, p.err);
    return item;
}

Item assess_tun(const Facts& facts)
{
    Item item{Status::Ok, kTun, "", ""};
    const TunFacts& t = facts.tun;
    const ProbeResult& p = facts.probe;
    const std::string mknod = "mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun";
    std::string found;
    if (t.stat_errno == ENOENT)
        found = "missing";
    else if (t.stat_errno != 0)
        found = std::string("cannot look at it: ") + std::strerror(t.stat_errno);
    else if (!t.char_device)
        found = "not a character device";
    else
        found = "character device " + std::to_string(t.major) + "," + std::to_string(t.minor) + ", mode " +
                octal_mode(t.mode);
    const bool right_device = t.stat_errno == 0 && t.char_device && t.major == 10 && t.minor == 200;
    const bool world_rw = (t.mode & 06) == 06;

    if (p.ran && !stopped_before_network(p)) {
        item.detail = found + "; created tap0 in a test namespace";
        if (!world_rw && facts.uid == 0)
            item.detail += " (as root: other users need mode 0666)";
        return item;
    }
    if (p.ran && tun_failed(p.failed_at)) {
        item.status = Status::Fail;
        item.detail = found + "; " + p.error;
        if (p.failed_at == Stage::TunSetIff && apparmor_denies(facts))
            item.fix = std::string("see the ") + kAppArmorSysctl + " line";
        else if (p.failed_at == Stage::OpenTun && t.stat_errno == 0 && !right_device)
            item.fix = "as root: make it the tun device (character device 10,200): rm /dev/net/tun && " + mknod;
        else
            item.fix = start::hint(p.failed_at, p.err);
        return item;
    }
    // Not tried: judge what can be seen from outside.
    if (t.stat_errno == ENOENT) {
        item.status = Status::Fail;
        item.detail = found;
        item.fix = "as root: modprobe tun; if it is still missing: " + mknod;
    } else if (t.stat_errno == 0 && !right_device) {
        item.status = Status::Fail;
        item.detail = found + ", not the tun device (10,200)";
        item.fix = "as root: rm /dev/net/tun && " + mknod;
    } else if (t.stat_errno == 0 && !world_rw && facts.uid != 0) {
        item.status = Status::Fail;
        item.detail = found + ": this user cannot open it";
        item.fix = "as root: chmod 0666 /dev/net/tun";
    } else {
        item.status = Status::Skipped;
        item.detail = found + "; " + not_tried(facts);
    }
    return item;
}

Item assess_network(const Facts& facts)
{
    Item item{Status::Ok, "network", "", ""};
    const ProbeResult& p = facts.probe;
    if (stopped_before_network(p)) {
        item.status = Status::Skipped;
        item.detail = not_tried(facts);
        return item;
    }
    if (p.failed_at == Stage::None) {
        item.detail = "lo and tap0 up, 10.0.2.100/24 on tap0, default route via 10.0.2.2, in a test namespace";
        return item;
    }
    item.status = Status::Fail;
    item.detail = p.error;
    if (apparmor_denies(facts))
        item.fix = std::string("see the ") + kAppArmorSysctl + " line";
    else
        item.fix = start::hint(p.failed_at, p.err);
    return item;
}

const char* status_word(Status status)
{
    switch (status) {
    case Status::Ok: return "ok";
    case Status::Warning: return "warning";
    case Status::Fail: return "FAIL";
    case Status::Skipped: return "skipped";
    }
    return "?";
}

}  // namespace

std::optional<std::pair<int, int>> parse_kernel_release(std::string_view release)
{
    size_t dot = release.find('.');
    if (dot == std::string_view::npos)
        return std::nullopt;
    size_t end = dot + 1;
    while (end < release.size() && release[end] >= '0' && release[end] <= '9')
        ++end;
    auto major = parse_u32(release.substr(0, dot));
    auto minor = parse_u32(release.substr(dot + 1, end - dot - 1));
    if (!major || !minor)
        return std::nullopt;
    return std::pair<int, int>{static_cast<int>(*major), static_cast<int>(*minor)};
}

SubidFindings inspect_subid(std::string_view text, uint32_t id, const std::string& name)
{
    SubidFindings findings;
    findings.ranges = subid::ranges_for(text, id, name);
    size_t number = 0;
    while (!text.empty()) {
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        ++number;
        if (line.empty() || line.front() == '#')
            continue;
        std::string_view owner = line.substr(0, line.find(':'));
        if (!(parse_u32(owner) == id || (!name.empty() && owner == name)))
            continue;
        // A line of the owner's that ranges_for would skip: let it have it alone.
        if (subid::ranges_for(line, id, name).empty())
            findings.malformed.push_back("line " + std::to_string(number) + ": '" + std::string(line.substr(0, 80)) +
                                         "'");
    }
    return findings;
}

uint32_t suggest_range_start(std::string_view subuid_text, std::string_view subgid_text, uint32_t count)
{
    uint64_t end = 100000;
    for (std::string_view text : {subuid_text, subgid_text}) {
        while (!text.empty()) {
            size_t eol = text.find('\n');
            std::string_view line = text.substr(0, eol);
            text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
            size_t first = line.find(':');
            size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
            if (line.empty() || line.front() == '#' || second == std::string_view::npos)
                continue;
            auto start = parse_u32(line.substr(first + 1, second - first - 1));
            auto n = parse_u32(line.substr(second + 1));
            if (start && n)
                end = std::max(end, uint64_t{*start} + *n);
        }
    }
    if (count == 0)
        count = 1;
    uint64_t start = (end + count - 1) / count * count;
    if (start + count > UINT32_MAX)  // no room left above: the admin must choose
        start = 100000;
    return static_cast<uint32_t>(start);
}

uint64_t count_mapped_ids(std::string_view map_text)
{
    uint64_t sum = 0;
    while (!map_text.empty()) {
        size_t eol = map_text.find('\n');
        std::string_view line = map_text.substr(0, eol);
        map_text = eol == std::string_view::npos ? std::string_view{} : map_text.substr(eol + 1);
        while (!line.empty() && line.back() == ' ')
            line.remove_suffix(1);
        size_t space = line.find_last_of(' ');
        if (space != std::string_view::npos)
            if (auto n = parse_u32(line.substr(space + 1)))
                sum += *n;
    }
    return sum;
}

std::vector<Item> assess(const Facts& facts)
{
    std::vector<Item> items;
    const ProbeResult& p = facts.probe;
    const bool userns_created = p.ran && p.failed_at != Stage::Clone;

    // kernel
    {
        Item item{Status::Ok, "kernel", "Linux " + facts.kernel_release + " " + facts.machine, ""};
        auto version = parse_kernel_release(facts.kernel_release);
        if (version && *version < std::pair<int, int>{3, 8}) {
            item.status = Status::Fail;
            item.detail += ": unprivileged user namespaces need Linux 3.8 or later";
            item.fix = "a newer kernel";
        } else if (!version) {
            item.detail += " (version not recognized)";
        }
        items.push_back(item);
    }

    // privileges
    {
        std::string ids = "uid " + std::to_string(facts.uid) +
                          (facts.user_name.empty() ? "" : " (" + facts.user_name + ")") + ", gid " +
                          std::to_string(facts.gid);
        if (facts.elevated) {
            const std::string exe = facts.exe_path.empty() ? "portwrap" : facts.exe_path;
            items.push_back({Status::Fail, "privileges",
                             ids + "; portwrap runs with elevated privileges (setuid, setgid or file capabilities), "
                                   "which a launch refuses",
                             "as root: chmod 0755 " + exe + " && setcap -r " + exe});
        } else {
            items.push_back({Status::Ok, "privileges", ids + "; no elevated privileges", ""});
        }
    }

    // user.max_user_namespaces
    {
        Item item{Status::Ok, "user.max_user_namespaces", "", ""};
        if (!facts.max_user_namespaces) {
            item.detail = "not present on this kernel (no limit)";
        } else if (*facts.max_user_namespaces <= 0) {
            item.status = Status::Fail;
            item.detail = std::to_string(*facts.max_user_namespaces) + ": user namespaces are disabled";
            item.fix = "as root: sysctl -w user.max_user_namespaces=15000 (keep it in /etc/sysctl.d/)";
        } else {
            item.detail = std::to_string(*facts.max_user_namespaces);
        }
        items.push_back(item);
    }

    // kernel.unprivileged_userns_clone (Debian's older kernels)
    {
        Item item{Status::Ok, "kernel.unprivileged_userns_clone", "", ""};
        if (!facts.unprivileged_userns_clone) {
            item.detail = "not present on this kernel (only older Debian kernels have it)";
        } else if (*facts.unprivileged_userns_clone != 0) {
            item.detail = std::to_string(*facts.unprivileged_userns_clone);
        } else if (userns_created) {
            item.detail = "0, but this user may create user namespaces anyway (it is privileged)";
        } else {
            item.status = Status::Fail;
            item.detail = "0: unprivileged users may not create user namespaces";
            item.fix = "as root: sysctl -w kernel.unprivileged_userns_clone=1 (keep it in /etc/sysctl.d/)";
        }
        items.push_back(item);
    }

    // kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10 and later)
    {
        Item item{Status::Ok, kAppArmorSysctl, "", ""};
        const auto& value = facts.apparmor_restrict_unprivileged_userns;
        if (!value) {
            item.detail = "not present on this kernel (no AppArmor restriction of user namespaces)";
        } else if (*value == 0) {
            item.detail = "0";
        } else if (apparmor_denies(facts)) {
            item.status = Status::Fail;
            item.detail = std::to_string(*value) + ": new user namespaces get no capabilities, so tap0 cannot be "
                                                   "set up";
            item.fix = apparmor_fix(facts);
        } else if (p.ran && p.failed_at == Stage::None) {
            item.detail = std::to_string(*value) + ", but this binary keeps its capabilities in a new user namespace "
                                                   "(an AppArmor profile allows it, or it runs privileged)";
        } else {
            item.status = Status::Warning;
            item.detail = std::to_string(*value) + ": new user namespaces may get no capabilities; " +
                          not_tried(facts);
            item.fix = apparmor_fix(facts);
        }
        items.push_back(item);
    }

    items.push_back(assess_userns(facts));

    // /etc/subuid and /etc/subgid, read as make_plan reads them.
    SubidView uid_view{"/etc/subuid", "/etc/subgid", "uid", facts.uid, facts.subuid_text, facts.subuid_errno, {}};
    SubidView gid_view{"/etc/subgid", "/etc/subuid", "gid", facts.gid, facts.subgid_text, facts.subgid_errno, {}};
    // Like make_plan: the user's lines are found by uid (or name) in both files.
    uid_view.findings = inspect_subid(facts.subuid_text.value_or(""), facts.uid, facts.user_name);
    gid_view.findings = inspect_subid(facts.subgid_text.value_or(""), facts.uid, facts.user_name);
    const bool helpers_used = !uid_view.findings.ranges.empty() && !gid_view.findings.ranges.empty();
    const uint32_t start =
        suggest_range_start(facts.subuid_text.value_or(""), facts.subgid_text.value_or(""), kSuggestedCount);
    // make_plan uses the helpers only when both pass its judgement.
    const bool both_found = id_map::helper_problem(facts.newuidmap, facts.uid).empty() &&
                            id_map::helper_problem(facts.newgidmap, facts.uid).empty();
    items.push_back(assess_subid(facts, uid_view, !gid_view.findings.ranges.empty(), both_found, start));
    items.push_back(assess_subid(facts, gid_view, !uid_view.findings.ranges.empty(), both_found, start));
    items.push_back(assess_helper(facts, "newuidmap", facts.newuidmap, helpers_used, helpers_used && both_found));
    items.push_back(assess_helper(facts, "newgidmap", facts.newgidmap, helpers_used, helpers_used && both_found));

    items.push_back(assess_id_map(facts));
    items.push_back(assess_tun(facts));
    items.push_back(assess_network(facts));

    // Which port driver --port-driver=auto (the default) picks, and why: the relay is a
    // working fallback, so never a failure.
    if (facts.handoff_unavailable)
        items.push_back({Status::Ok, "port-driver",
                         "relay (the handoff driver is unavailable: " + *facts.handoff_unavailable + ")", ""});
    else
        items.push_back({Status::Ok, "port-driver",
                         "handoff: a server's bind() of a forwarded TCP port inside gets the host socket "
                         "(Linux 5.9 or later, seccomp user notification, pidfd_getfd)",
                         ""});
    return items;
}

std::string format_item(const Item& item)
{
    char status[16];
    std::snprintf(status, sizeof status, "%-7s", status_word(item.status));
    std::string line = std::string(status) + " " + item.name + ": " + item.detail;
    if (!item.fix.empty())
        line += "; fix: " + item.fix;
    for (char& c : line)
        if (c == '\n' || c == '\r')
            c = ' ';
    return line;
}

std::string summary_line(const std::vector<Item>& items, const Facts& facts)
{
    size_t fails = 0, warnings = 0;
    for (const auto& item : items) {
        fails += item.status == Status::Fail;
        warnings += item.status == Status::Warning;
    }
    const std::string counts = std::to_string(fails) + " FAIL, " + std::to_string(warnings) + " warning" +
                               (warnings == 1 ? "" : "s");
    if (fails == 0)
        return "summary: ok (" + counts + "): portwrap can run here for " + who(facts);
    return "summary: FAIL (" + counts + "): portwrap cannot run here for " + who(facts) +
           "; fix the FAIL lines above";
}

int exit_status(const std::vector<Item>& items)
{
    for (const auto& item : items)
        if (item.status == Status::Fail)
            return 1;
    return 0;
}

}  // namespace portwrap::self_check
