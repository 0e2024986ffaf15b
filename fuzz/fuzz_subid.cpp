// libFuzzer harness for the /etc/passwd and /etc/subuid parsers and the map planner:
// portwrap::subid::user_name_from_passwd, ranges_for and plan_map, used the way
// id_map.cpp uses them.
//
// Input layout (hand-written seeds in fuzz/corpus/subid/ follow it):
//   byte 0      flags: bit 0 = map_root; bit 1 = look the owner's name up in the
//               passwd text (as portwrap does), else match subuid lines by id only
//   bytes 1-4   the user's own uid, little-endian (the owner looked up in the text)
//   bytes 5-8   the user's own gid, little-endian (plan_map is run for both ids)
//   the rest    passwd text, a NUL byte, subuid text (no NUL: all of it is subuid text)
//
// plan_map's output is checked against what the kernel accepts in uid_map and what
// subid.h promises: 1 to 340 lines, every count > 0, inside ranges sorted and
// disjoint and never reaching 4294967295, outside ranges not wrapping, the own id
// mapped to itself (or to 0 with map_root) by exactly one line of count 1, the
// subordinate ids filling the inside ids lowest first, and every other line taken
// from one of the ranges (outside ranges disjoint too; each distinct id mapped once).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "subid.h"

using namespace portwrap::subid;

namespace {

constexpr char kFuzzTarget[] = "fuzz_subid";

constexpr uint64_t kIdLimit = uint64_t{1} << 32;
constexpr uint32_t kUnmapped = UINT32_MAX;  // (uid_t)-1: the kernel never maps it
constexpr size_t kMaxMapLines = 340;        // the kernel's limit since Linux 4.15

uint32_t read_le32(const uint8_t* p)
{
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

FUZZ_ORACLE void check_name(std::string_view passwd, const std::optional<std::string>& name)
{
    if (!name)
        return;
    FUZZ_CHECK(!name->empty());
    FUZZ_CHECK(name->find_first_of(":\n") == std::string::npos);
    // It is the first field of a line of the text.
    const std::string field = *name + ":";
    FUZZ_CHECK(passwd.substr(0, field.size()) == field || passwd.find("\n" + field) != std::string_view::npos);
}

FUZZ_ORACLE void check_ranges(const std::vector<Range>& ranges)
{
    for (const Range& r : ranges) {
        FUZZ_CHECK(r.count > 0);
        FUZZ_CHECK(uint64_t{r.start} + r.count <= kIdLimit);
    }
}

// a is b with some elements left out (order kept).
FUZZ_ORACLE bool is_subsequence(const std::vector<Range>& a, const std::vector<Range>& b)
{
    size_t j = 0;
    for (const Range& r : a) {
        while (j < b.size() && !(b[j] == r))
            ++j;
        if (j == b.size())
            return false;
        ++j;
    }
    return true;
}

// The ranges sorted by start.
FUZZ_ORACLE std::vector<Range> sorted_ranges(std::vector<Range> ranges)
{
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.start < b.start; });
    return ranges;
}

// How many distinct ids the (sorted) ranges cover, not counting `own`.
FUZZ_ORACLE uint64_t distinct_ids(const std::vector<Range>& sorted, uint32_t own)
{
    uint64_t total = 0, covered_to = 0;  // ids below covered_to are counted
    bool own_covered = false;
    for (const Range& r : sorted) {
        const uint64_t begin = std::max<uint64_t>(r.start, covered_to);
        const uint64_t end = uint64_t{r.start} + r.count;
        if (end > begin)
            total += end - begin;
        covered_to = std::max(covered_to, end);
        own_covered |= own >= r.start && own - r.start < r.count;
    }
    return total - (own_covered ? 1 : 0);
}

// [outside, outside+count) lies within one of the (sorted) ranges.
FUZZ_ORACLE bool within_a_range(const std::vector<Range>& sorted, uint32_t outside, uint32_t count)
{
    const uint64_t end = uint64_t{outside} + count;
    for (const Range& r : sorted) {
        if (r.start > outside)
            break;
        if (end <= uint64_t{r.start} + r.count)
            return true;
    }
    return false;
}

FUZZ_ORACLE void check_plan(uint32_t own, const std::vector<Range>& ranges, bool map_root)
{
    const std::vector<MapLine> lines = plan_map(own, ranges, map_root);
    const std::vector<Range> sorted = sorted_ranges(ranges);
    const uint32_t own_inside = map_root ? 0 : own;

    FUZZ_CHECK(!lines.empty());
    FUZZ_CHECK(lines.size() <= kMaxMapLines);

    size_t own_lines = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        const MapLine& l = lines[i];
        FUZZ_CHECK(l.count > 0);
        FUZZ_CHECK(uint64_t{l.inside} + l.count <= kUnmapped);  // never maps 4294967295 inside
        FUZZ_CHECK(uint64_t{l.outside} + l.count <= kIdLimit);
        if (i > 0)  // sorted by inside, and the inside ranges do not overlap
            FUZZ_CHECK(uint64_t{lines[i - 1].inside} + lines[i - 1].count <= l.inside);
        if (l.inside <= own_inside && own_inside - l.inside < l.count) {
            ++own_lines;
            FUZZ_CHECK(l.inside == own_inside && l.outside == own && l.count == 1);
        }
    }
    FUZZ_CHECK(own_lines == 1);

    // The other lines: taken from the ranges, filling inside ids from 0 up, around own_inside.
    uint64_t next_inside = 0, mapped = 0;
    for (const MapLine& l : lines) {
        if (l.inside == own_inside)
            continue;
        if (next_inside == own_inside)
            ++next_inside;
        FUZZ_CHECK(l.inside == next_inside);
        next_inside += l.count;
        mapped += l.count;
        FUZZ_CHECK(within_a_range(sorted, l.outside, l.count));
    }
    // Ids that two ranges share, or that are the user's own, are mapped once.
    const uint64_t available = distinct_ids(sorted, own);
    FUZZ_CHECK(mapped <= available);
    // All of the ranges are used unless the 340 lines or the end of the id space ran out.
    if (lines.size() < kMaxMapLines && next_inside < kUnmapped - 1)
        FUZZ_CHECK(mapped == available);

    // The kernel rejects overlapping outside ranges too, so they never overlap, even
    // when /etc/subuid repeats a range or includes the user's own id.
    std::vector<MapLine> by_outside = lines;
    std::sort(by_outside.begin(), by_outside.end(),
              [](const MapLine& a, const MapLine& b) { return a.outside < b.outside; });
    for (size_t i = 1; i < by_outside.size(); ++i)
        FUZZ_CHECK(uint64_t{by_outside[i - 1].outside} + by_outside[i - 1].count <= by_outside[i].outside);

    // The two renderings: three arguments per line; one text line per line.
    FUZZ_CHECK(map_arguments(lines).size() == 3 * lines.size());
    const std::string text = map_file_text(lines);
    FUZZ_CHECK(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) == lines.size());
    FUZZ_CHECK(text.find_first_not_of("0123456789 \n") == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 9)
        return 0;
    const bool map_root = data[0] & 1;
    const bool lookup_name = data[0] & 2;
    const uint32_t uid = read_le32(data + 1);
    const uint32_t gid = read_le32(data + 5);
    if (uid == kUnmapped || gid == kUnmapped)
        return 0;  // getuid() and getgid() never return (uid_t)-1

    std::string_view rest(reinterpret_cast<const char*>(data) + 9, size - 9);
    std::string_view passwd, subid = rest;
    if (size_t nul = rest.find('\0'); nul != std::string_view::npos) {
        passwd = rest.substr(0, nul);
        subid = rest.substr(nul + 1);
    }

    const std::optional<std::string> found = user_name_from_passwd(passwd, uid);
    check_name(passwd, found);
    const std::string name = lookup_name ? found.value_or("") : "";

    const std::vector<Range> ranges = ranges_for(subid, uid, name);
    check_ranges(ranges);
    // Matching by name as well can only add lines.
    FUZZ_CHECK(is_subsequence(ranges_for(subid, uid, ""), ranges));

    check_plan(uid, ranges, map_root);
    check_plan(gid, ranges, map_root);
    return 0;
}
