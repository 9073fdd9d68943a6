// How a meeting's live state is kept with the room's state in the broker: one versioned field
// (moderation/moderation_state.hpp, StateChange::swap), so of two changes made from the same
// version on two instances one is stored and the other is told to read again.
#pragma once

#include <cstdint>
#include <string_view>

#include "haven.pb.h"
#include "moderation/moderation_state.hpp"

namespace haven::meetings {

inline constexpr std::string_view kMeetingField = "meeting";

// The state stored in `fields`; an empty one when there is none (or it cannot be read).
v1::MeetingState load_meeting(const moderation::StateFields& fields);

// Stores `next` if the stored version is still `expected`.
moderation::StateChange store_meeting(const v1::MeetingState& next, std::uint64_t expected);

// Takes `incoming` (an event's, or a stored one) when it is newer than what `kept` has.
void keep_newer(v1::MeetingState& kept, const v1::MeetingState& incoming);

}  // namespace haven::meetings
