#include "meetings/meeting_schedule.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <date/tz.h>

#include "config/local_time_text.hpp"

namespace haven::meetings {
namespace {

using LocalMinutes = date::local_time<std::chrono::minutes>;

unsigned weekday_number(std::string_view name) {
    static constexpr std::string_view kNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (unsigned i = 0; i < 7; ++i) {
        if (kNames[i] == name) return i;
    }
    throw std::invalid_argument("days: not a day of the week");
}

std::uint64_t minutes_ms(std::uint32_t minutes) {
    return static_cast<std::uint64_t>(minutes) * 60'000;
}

}  // namespace

MeetingPhase phase_at(const Occurrence& occurrence, std::uint64_t now_ms) {
    if (now_ms >= occurrence.end_ms) return MeetingPhase::ended;
    if (now_ms >= occurrence.start_ms) return MeetingPhase::in_session;
    if (now_ms >= occurrence.doors_open_ms) return MeetingPhase::doors_open;
    return MeetingPhase::scheduled;
}

std::string_view phase_name(MeetingPhase phase) {
    switch (phase) {
        case MeetingPhase::scheduled:
            return "scheduled";
        case MeetingPhase::doors_open:
            return "doors_open";
        case MeetingPhase::in_session:
            return "in_session";
        case MeetingPhase::ended:
            return "ended";
    }
    return "scheduled";
}

MeetingSchedule::MeetingSchedule(const config::MeetingScheduleConfig& config)
    : time_zone_name_(config.time_zone),
      duration_ms_(minutes_ms(config.duration_minutes)),
      doors_ms_(minutes_ms(config.doors_open_minutes)),
      late_ms_(minutes_ms(std::min(config.late_entry_minutes, config.duration_minutes))) {
    try {
        zone_ = date::locate_zone(config.time_zone);
    } catch (const std::exception&) {
        throw std::invalid_argument("time_zone: unknown");
    }
    for (const std::string& day : config.days) weekdays_.push_back(weekday_number(day));
    std::sort(weekdays_.begin(), weekdays_.end());
    weekdays_.erase(std::unique(weekdays_.begin(), weekdays_.end()), weekdays_.end());
    if (!weekdays_.empty()) {
        const std::optional<int> start = config::parse_clock_minutes(config.start);
        if (!start) throw std::invalid_argument("start: not HH:MM");
        start_minutes_ = *start;
    }
    for (const std::string& when : config.dates) {
        const std::optional<std::int64_t> local = config::parse_local_minutes(when);
        if (!local) throw std::invalid_argument("dates: not YYYY-MM-DD HH:MM");
        one_offs_.push_back(*local);
    }
    std::sort(one_offs_.begin(), one_offs_.end());
}

Occurrence MeetingSchedule::around(std::int64_t local_start_minutes) const {
    const LocalMinutes local{std::chrono::minutes{local_start_minutes}};
    // A start in the skipped hour maps to the jump; a doubled one to its first instant.
    const auto start = zone_->to_sys(local, date::choose::earliest);
    const auto start_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count());
    return starting_at(start_ms);
}

Occurrence MeetingSchedule::starting_at(std::uint64_t start_ms) const {
    return Occurrence{start_ms - std::min(start_ms, doors_ms_), start_ms, start_ms + late_ms_,
                      start_ms + duration_ms_};
}

std::optional<Occurrence> MeetingSchedule::current_or_next(std::uint64_t now_ms) const {
    std::optional<Occurrence> best;
    const auto consider = [&](const Occurrence& occurrence) {
        if (occurrence.end_ms <= now_ms) return;  // over
        if (!best || occurrence.start_ms < best->start_ms) best = occurrence;
    };
    if (!weekdays_.empty()) {
        // The local day now, and from one day before (a meeting that began yesterday evening
        // may still run) through the week after.
        const date::sys_time<std::chrono::milliseconds> now{std::chrono::milliseconds{now_ms}};
        const auto today = date::floor<date::days>(zone_->to_local(now));
        const std::int64_t longest_days =
            static_cast<std::int64_t>((duration_ms_ + doors_ms_) / 86'400'000) + 1;
        for (std::int64_t offset = -longest_days; offset <= 7; ++offset) {
            const date::local_days day = today + date::days{offset};
            const unsigned weekday = date::weekday{day}.c_encoding();
            if (!std::binary_search(weekdays_.begin(), weekdays_.end(), weekday)) continue;
            consider(around(
                std::chrono::duration_cast<std::chrono::minutes>(day.time_since_epoch()).count() +
                start_minutes_));
        }
    }
    for (const std::int64_t local : one_offs_) consider(around(local));
    return best;
}

}  // namespace haven::meetings
