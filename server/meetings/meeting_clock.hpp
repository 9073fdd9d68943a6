// Where a meeting room stands at a moment: the occurrence it is at and that occurrence's phase,
// by its schedule as the facilitators have moved it (opened early, ended, extended, paused:
// the room's MeetingState). Pure: the time is passed in.
#pragma once

#include <cstdint>
#include <optional>

#include "haven.pb.h"
#include "meetings/meeting_schedule.hpp"

namespace haven::meetings {

struct MeetingNow {
    // Open or in session now, else the next; none: no occurrence is left (or no schedule).
    std::optional<Occurrence> occurrence;
    MeetingPhase phase = MeetingPhase::scheduled;
    // The last facilitator left: closed to participants until this (then the occurrence ends).
    std::uint64_t paused_until_ms = 0;
};

// `schedule` null: a meeting room without one is in session unless a facilitator ended it
// (and did not start it again).
MeetingNow meeting_now(const MeetingSchedule* schedule, const v1::MeetingState& live,
                       std::uint64_t now_ms);

// The live state a change starts from: the stored one when it is for the occurrence the room
// is at, else a fresh one for that occurrence (numbered on from the stored version, which
// the broker's compare-and-set needs).
v1::MeetingState state_for(const v1::MeetingState& stored, const MeetingNow& now);

}  // namespace haven::meetings
