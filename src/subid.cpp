#include "subid.h"

#include <algorithm>
#include <charconv>

namespace portwrap::subid {
namespace {

// The kernel accepts at most 340 lines in uid_map/gid_map (since Linux 4.15).
constexpr size_t kMaxMapLines = 340;

// Calls fn(fields) for each non-comment line split on ':'.
template <typename Fn>
void for_each_record(std::string_view text, Fn&& fn)
{
    while (!text.empty()) {
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (line.empty() || line.front() == '#')
            continue;
        std::vector<std::string_view> fields;
        for (size_t from = 0;;) {
            size_t colon = line.find(':', from);
            fields.push_back(line.substr(from, colon - from));
            if (colon == std::string_view::npos)
                break;
            from = colon + 1;
        }
        fn(fields);
    }
}

std::optional<uint32_t> parse_u32(std::string_view text)
{
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

// `ranges` in file order, less every id an earlier range or `own` already covers: a
// repeated or overlapping /etc/subuid line must not make two map lines overlap, which
// the kernel refuses (and newuidmap reports only as "Invalid argument").
std::vector<Range> without_overlaps(uint32_t own, const std::vector<Range>& ranges)
{
    struct Span {
        uint64_t begin, end;  // [begin, end)
    };
    std::vector<Span> taken{{own, uint64_t{own} + 1}};
    std::vector<Range> result;
    for (const Range& range : ranges) {
        if (result.size() >= kMaxMapLines)  // no more could be mapped anyway
            break;
        std::vector<Span> pieces{{range.start, uint64_t{range.start} + range.count}};
        for (const Span& t : taken) {
            std::vector<Span> rest;
            for (const Span& p : pieces) {
                if (t.end <= p.begin || t.begin >= p.end) {
                    rest.push_back(p);
                    continue;
                }
                if (p.begin < t.begin)
                    rest.push_back({p.begin, t.begin});
                if (t.end < p.end)
                    rest.push_back({t.end, p.end});
            }
            pieces = std::move(rest);
        }
        for (const Span& p : pieces)
            result.push_back({static_cast<uint32_t>(p.begin), static_cast<uint32_t>(p.end - p.begin)});
        taken.push_back({range.start, uint64_t{range.start} + range.count});
    }
    return result;
}

}  // namespace

std::optional<std::string> user_name_from_passwd(std::string_view passwd_text, uint32_t uid)
{
    std::optional<std::string> name;
    for_each_record(passwd_text, [&](const std::vector<std::string_view>& f) {
        if (!name && f.size() >= 3 && !f[0].empty() && parse_u32(f[2]) == uid)
            name = std::string(f[0]);
    });
    return name;
}

std::vector<Range> ranges_for(std::string_view subid_text, uint32_t id, const std::string& name)
{
    std::vector<Range> ranges;
    for_each_record(subid_text, [&](const std::vector<std::string_view>& f) {
        if (f.size() != 3)
            return;
        bool owner = parse_u32(f[0]) == id || (!name.empty() && f[0] == name);
        auto start = parse_u32(f[1]);
        auto count = parse_u32(f[2]);
        if (owner && start && count && *count > 0 && uint64_t{*start} + *count <= (uint64_t{1} << 32))
            ranges.push_back({*start, *count});
    });
    return ranges;
}

std::vector<MapLine> plan_map(uint32_t own, const std::vector<Range>& ranges, bool map_root)
{
    const uint32_t own_inside = map_root ? 0 : own;
    std::vector<MapLine> lines{{own_inside, own, 1}};
    uint64_t next_inside = 0;  // next free id inside; own_inside is skipped
    for (const Range& range : without_overlaps(own, ranges)) {
        uint64_t outside = range.start;
        uint64_t left = range.count;
        while (left > 0 && lines.size() < kMaxMapLines) {
            if (next_inside == own_inside)
                ++next_inside;
            if (next_inside >= UINT32_MAX)  // 4294967295 is (uid_t)-1: never mapped
                break;
            // Take ids up to own_inside (exclusive) or to the end of the range.
            uint64_t room = next_inside < own_inside ? own_inside - next_inside : UINT32_MAX - next_inside;
            uint64_t take = std::min(left, room);
            lines.push_back({static_cast<uint32_t>(next_inside), static_cast<uint32_t>(outside),
                             static_cast<uint32_t>(take)});
            next_inside += take;
            outside += take;
            left -= take;
        }
    }
    std::sort(lines.begin(), lines.end(), [](const MapLine& a, const MapLine& b) { return a.inside < b.inside; });
    return lines;
}

std::vector<std::string> map_arguments(const std::vector<MapLine>& lines)
{
    std::vector<std::string> args;
    for (const MapLine& line : lines) {
        args.push_back(std::to_string(line.inside));
        args.push_back(std::to_string(line.outside));
        args.push_back(std::to_string(line.count));
    }
    return args;
}

std::string map_file_text(const std::vector<MapLine>& lines)
{
    std::string text;
    for (const MapLine& line : lines)
        text += std::to_string(line.inside) + " " + std::to_string(line.outside) + " " +
                std::to_string(line.count) + "\n";
    return text;
}

}  // namespace portwrap::subid
