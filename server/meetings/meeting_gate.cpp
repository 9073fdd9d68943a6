#include "meetings/meeting_gate.hpp"

#include <algorithm>
#include <limits>

namespace haven::meetings {

std::optional<ClosedToPosts> closed_to_posts(const MeetingSchedule& schedule, v1::Role role,
                                             std::uint64_t now_ms) {
    if (role >= v1::ROLE_PEER_SUPPORTER) return std::nullopt;
    const std::optional<Occurrence> next = schedule.current_or_next(now_ms);
    if (!next) return ClosedToPosts{};
    const MeetingPhase phase = phase_at(*next, now_ms);
    if (phase == MeetingPhase::doors_open || phase == MeetingPhase::in_session) return std::nullopt;
    const std::uint64_t wait = next->doors_open_ms > now_ms ? next->doors_open_ms - now_ms : 0;
    return ClosedToPosts{static_cast<std::uint32_t>(
        std::min<std::uint64_t>(wait, std::numeric_limits<std::uint32_t>::max()))};
}

}  // namespace haven::meetings
