// Local times as a meeting schedule writes them: "HH:MM" and "YYYY-MM-DD HH:MM". Read once
// here, for the config check and for the schedule that uses them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace haven::config {

// "HH:MM" (00:00 to 23:59) as minutes after midnight.
std::optional<int> parse_clock_minutes(std::string_view text);
// "YYYY-MM-DD HH:MM" naming a real day, as minutes since 1970-01-01 00:00 of the same clock.
std::optional<std::int64_t> parse_local_minutes(std::string_view text);

}  // namespace haven::config
