// /etc/subuid, /etc/subgid and /etc/passwd text -> the id maps for the namespace. Pure.
//
// Names are never resolved through NSS (getpwuid & co.): a static binary crashes in
// them on machines whose users come from LDAP/SSSD. We read /etc/passwd as text and
// fall back to $USER; newuidmap re-validates everything anyway.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portwrap::subid {

struct Range {
    uint32_t start = 0;
    uint32_t count = 0;
    bool operator==(const Range&) const = default;
};

// One line of a uid_map/gid_map: ids [inside, inside+count) map to [outside, outside+count).
struct MapLine {
    uint32_t inside = 0;
    uint32_t outside = 0;
    uint32_t count = 0;
    bool operator==(const MapLine&) const = default;
};

// The name of `uid` in /etc/passwd text, if it is listed there.
std::optional<std::string> user_name_from_passwd(std::string_view passwd_text, uint32_t uid);

// The ranges of /etc/subuid (or /etc/subgid) text that belong to the owner with
// numeric id `id` or name `name` (empty: match by id only), in file order.
// Comments, blank lines and malformed lines are skipped.
std::vector<Range> ranges_for(std::string_view subid_text, uint32_t id, const std::string& name);

// The map for a user whose own id is `own`: `own` maps to itself (or to 0 with
// map_root) and the subordinate ranges fill the other ids inside, lowest first,
// around it. With no ranges this is the single line for `own`. Ids that a range
// shares with an earlier one or with `own` are used once: no two lines overlap.
std::vector<MapLine> plan_map(uint32_t own, const std::vector<Range>& ranges, bool map_root);

// "inside outside count" for each line: the argument tail of newuidmap/newgidmap.
std::vector<std::string> map_arguments(const std::vector<MapLine>& lines);

// The text written to /proc/PID/uid_map.
std::string map_file_text(const std::vector<MapLine>& lines);

}  // namespace portwrap::subid
