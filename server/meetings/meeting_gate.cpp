#include "meetings/meeting_gate.hpp"

#include <algorithm>
#include <limits>

#include "meetings/meeting_clock.hpp"
#include "meetings/meeting_floor.hpp"

namespace haven::meetings {
namespace {

std::uint32_t wait_ms(std::uint64_t until_ms, std::uint64_t now_ms) {
    const std::uint64_t wait = until_ms > now_ms ? until_ms - now_ms : 0;
    return static_cast<std::uint32_t>(
        std::min<std::uint64_t>(wait, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

std::optional<MeetingRefusal> meeting_refuses_post(const MeetingSchedule* schedule,
                                                   const v1::MeetingState& live,
                                                   const MeetingPoster& poster,
                                                   std::uint64_t now_ms) {
    if (poster.role >= v1::ROLE_PEER_SUPPORTER) return std::nullopt;
    const MeetingNow now = meeting_now(schedule, live, now_ms);
    if (now.phase != MeetingPhase::doors_open && now.phase != MeetingPhase::in_session) {
        const bool opens = now.occurrence && now.phase == MeetingPhase::scheduled;
        return MeetingRefusal{v1::MEETING_CLOSED,
                              opens ? wait_ms(now.occurrence->doors_open_ms, now_ms) : 0};
    }
    if (now.paused_until_ms != 0) {
        return MeetingRefusal{v1::MEETING_CLOSED, wait_ms(now.paused_until_ms, now_ms)};
    }
    const v1::MeetingState state = state_for(live, now);
    if (state.floor_only() && !holds_floor(state, poster.subject, poster.member_id)) {
        return MeetingRefusal{v1::FLOOR_HELD, 0};
    }
    return std::nullopt;
}

}  // namespace haven::meetings
