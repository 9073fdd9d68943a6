// When a meeting room meets: its occurrences from the room's [rooms.schedule] (weekly days at a
// local time in an IANA time zone, and one-off local dates), each with the time its doors open,
// its start, the end of late entry and its end, as instants. Local times are turned into
// instants through the zone's rules for that day, so a 19:00 meeting in Berlin stays at 19:00
// for the people there across daylight saving while its UTC time moves. A local start that
// does not exist (the hour skipped in spring) is moved to the moment the clocks jump; one that
// happens twice (autumn) is the first. Pure: the time is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace date {
class time_zone;
}

namespace haven::meetings {

struct Occurrence {
    std::uint64_t doors_open_ms = 0;
    std::uint64_t start_ms = 0;
    std::uint64_t late_entry_until_ms = 0;  // newcomers are let in until then
    std::uint64_t end_ms = 0;
};

// Where an occurrence stands at a moment, by the clock alone (facilitators may move it).
enum class MeetingPhase { scheduled, doors_open, in_session, ended };
MeetingPhase phase_at(const Occurrence& occurrence, std::uint64_t now_ms);
std::string_view phase_name(MeetingPhase phase);

class MeetingSchedule {
public:
    // `config` was checked at load (config.cpp): a zone this machine knows, valid days and
    // times. Throws std::invalid_argument otherwise.
    explicit MeetingSchedule(const config::MeetingScheduleConfig& config);

    // The occurrence whose doors are open or which is in session at `now_ms`, else the next
    // one to come; none when only one-off dates were given and all are past.
    std::optional<Occurrence> current_or_next(std::uint64_t now_ms) const;
    // The occurrence that starts at `start_ms` (one current_or_next gave), as the rule times it.
    Occurrence starting_at(std::uint64_t start_ms) const;
    const std::string& time_zone() const { return time_zone_name_; }

private:
    Occurrence around(std::int64_t local_start_minutes) const;

    const date::time_zone* zone_;
    std::string time_zone_name_;
    std::vector<unsigned> weekdays_;      // 0 = Sunday .. 6 = Saturday
    int start_minutes_ = 0;               // local minutes after midnight, weekly
    std::vector<std::int64_t> one_offs_;  // local minutes since 1970-01-01 00:00, sorted
    std::uint64_t duration_ms_;
    std::uint64_t doors_ms_;
    std::uint64_t late_ms_;
};

}  // namespace haven::meetings
