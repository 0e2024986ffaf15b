// The one clock portwrap measures time with: CLOCK_MONOTONIC, which steps neither with
// the wall clock nor with suspend-time adjustments, so deadlines and idle timeouts hold.
#pragma once

#include <time.h>

#include <cstdint>

namespace portwrap {

inline int64_t monotonic_ns() noexcept
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

inline int64_t monotonic_ms() noexcept
{
    return monotonic_ns() / 1'000'000;
}

}  // namespace portwrap
