#include "meetings/meeting_clock.hpp"

#include <algorithm>

namespace haven::meetings {
namespace {

constexpr std::uint64_t kMinuteMs = 60'000;

// When the facilitators' occurrence ended: by their hand, or when a pause ran out.
std::uint64_t ended_at(const v1::MeetingState& live, std::uint64_t now_ms) {
    if (live.ended_ms() != 0) return live.ended_ms();
    if (live.paused_until_ms() != 0 && now_ms >= live.paused_until_ms()) {
        return live.paused_until_ms();
    }
    return 0;
}

MeetingNow by_the_schedule(const MeetingSchedule& schedule, std::uint64_t now_ms) {
    MeetingNow now;
    now.occurrence = schedule.current_or_next(now_ms);
    now.phase = now.occurrence ? phase_at(*now.occurrence, now_ms) : MeetingPhase::ended;
    return now;
}

}  // namespace

MeetingNow meeting_now(const MeetingSchedule* schedule, const v1::MeetingState& live,
                       std::uint64_t now_ms) {
    if (schedule == nullptr) {
        MeetingNow now;
        const bool ended = live.ended_ms() != 0 && live.ended_ms() >= live.started_ms();
        now.phase = ended ? MeetingPhase::ended : MeetingPhase::in_session;
        if (!ended && live.paused_until_ms() > now_ms) now.paused_until_ms = live.paused_until_ms();
        return now;
    }
    if (live.occurrence_start_ms() == 0) return by_the_schedule(*schedule, now_ms);
    const Occurrence planned = schedule->starting_at(live.occurrence_start_ms());
    Occurrence moved = planned;
    moved.end_ms += std::uint64_t{live.extended_minutes()} * kMinuteMs;
    if (ended_at(live, now_ms) != 0) {
        // Over for today: the room waits for the occurrence after it.
        MeetingNow now = by_the_schedule(*schedule, std::max(now_ms, planned.end_ms));
        if (now.occurrence) now.phase = phase_at(*now.occurrence, now_ms);
        return now;
    }
    if (now_ms >= moved.end_ms) return by_the_schedule(*schedule, now_ms);
    const bool started = live.started_ms() != 0 && now_ms >= live.started_ms();
    MeetingNow now;
    now.occurrence = moved;
    if (started || now_ms >= moved.start_ms) {
        now.phase = MeetingPhase::in_session;
    } else {
        now.phase =
            now_ms >= moved.doors_open_ms ? MeetingPhase::doors_open : MeetingPhase::scheduled;
    }
    if (live.paused_until_ms() > now_ms) now.paused_until_ms = live.paused_until_ms();
    return now;
}

v1::MeetingState state_for(const v1::MeetingState& stored, const MeetingNow& now) {
    const std::uint64_t occurrence = now.occurrence ? now.occurrence->start_ms : 0;
    if (stored.occurrence_start_ms() == occurrence) return stored;
    v1::MeetingState fresh;
    fresh.set_version(stored.version());
    fresh.set_occurrence_start_ms(occurrence);
    return fresh;
}

}  // namespace haven::meetings
