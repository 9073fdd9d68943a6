// What a meeting room's sweep keeps right as people come and go: a hand whose person left
// keeps its place for hand_grace_seconds and is then lowered, and moves to their new session
// when they come back; a meeting its last facilitator left pauses for facilitator_grace_seconds
// (then that occurrence ends) and goes on when one is back; a share whose time is up in a room
// that cuts off ends. Every instance with members sweeps; the step is stored with the
// version compare-and-set, so whichever instance is first takes it and the others find it
// done. Pure, with the moments each absence began kept by the caller.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "haven.pb.h"
#include "meetings/meeting_clock.hpp"

namespace haven::meetings {

// Since when this instance has seen each absence (wall ms).
struct Absences {
    std::map<std::string, std::uint64_t> hands;  // a hand's member id -> first seen gone
    std::uint64_t facilitators = 0;              // no facilitator present since; 0: one is
};

struct Attendance {
    std::vector<v1::Member> present;  // in the room, every instance
    // This instance's members, with who they are: a person back under a new session.
    std::vector<std::pair<std::string, v1::Member>> local;  // subject, member
};

// A facilitator who drops for a moment (a reconnect) does not pause the meeting.
inline constexpr std::uint64_t kFacilitatorAbsentMs = 5'000;

// Records the absences `state` and `attendance` show now (and forgets the ended ones).
void note_absences(const v1::MeetingState& state, const Attendance& attendance,
                   std::uint64_t now_ms, Absences& absences);

// The state the sweep publishes, or nothing to do.
std::optional<v1::MeetingState> tend(const v1::MeetingState& current, const MeetingNow& now,
                                     const Attendance& attendance, const Absences& absences,
                                     const config::MeetingFloorConfig& config,
                                     std::uint64_t now_ms);

}  // namespace haven::meetings
