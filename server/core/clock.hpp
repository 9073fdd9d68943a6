// Time as the server reads it. Wall time goes on the wire; steady time drives limits.
#pragma once

#include <chrono>
#include <cstdint>

namespace haven::core {

inline std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

inline std::int64_t wall_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using SteadyTime = std::chrono::steady_clock::time_point;
inline SteadyTime steady_now() {
    return std::chrono::steady_clock::now();
}

}  // namespace haven::core
