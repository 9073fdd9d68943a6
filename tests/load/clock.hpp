// One clock for the whole tool: CLOCK_MONOTONIC in nanoseconds. Publish times travel inside
// the posts and are compared with receive times in the same process (or another process on
// the same machine), so a monotonic clock is both cheap (vDSO) and immune to NTP steps.
#pragma once

#include <time.h>

#include <cstdint>

namespace haven::load {

inline std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline double ns_to_ms(std::int64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

}  // namespace haven::load
