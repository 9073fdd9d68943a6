// Whether a meeting room takes posts now: between the time its doors open and its end. Outside
// that the room is read-only for participants, who are told when it opens; facilitators (peer
// supporters) and moderators may always write, to welcome people or leave a note.
#pragma once

#include <cstdint>
#include <optional>

#include "haven.pb.h"
#include "meetings/meeting_schedule.hpp"

namespace haven::meetings {

struct ClosedToPosts {
    std::uint32_t retry_after_ms = 0;  // until the doors open; 0 when no occurrence remains
};

std::optional<ClosedToPosts> closed_to_posts(const MeetingSchedule& schedule, v1::Role role,
                                             std::uint64_t now_ms);

}  // namespace haven::meetings
