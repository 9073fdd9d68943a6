// Whether a meeting room takes a post now. Between the time its doors open and its end (as the
// facilitators have moved them) it does, except while it is paused and, in a phase where one
// person holds the floor, from anyone but the floor holder. Outside that the room is read-only
// for participants, who are told when it opens; facilitators (peer supporters) and moderators
// may always write, to welcome people, hold the meeting together or leave a note.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "haven.pb.h"
#include "meetings/meeting_schedule.hpp"

namespace haven::meetings {

struct MeetingPoster {
    v1::Role role = v1::ROLE_PARTICIPANT;
    std::string subject;
    std::string member_id;
};

struct MeetingRefusal {
    v1::ErrorCode code = v1::MEETING_CLOSED;  // or FLOOR_HELD
    // MEETING_CLOSED: until the doors open, or a pause ends; 0 when no occurrence remains
    std::uint32_t retry_after_ms = 0;
};

// `schedule` null: the room has none (it is in session unless a facilitator ended it).
std::optional<MeetingRefusal> meeting_refuses_post(const MeetingSchedule* schedule,
                                                   const v1::MeetingState& live,
                                                   const MeetingPoster& poster,
                                                   std::uint64_t now_ms);

}  // namespace haven::meetings
