// The rules of a meeting's floor: who may do what to the hand queue, the floor and the
// meeting's course, and the state each step leads to. Pure: the room's owner hands it the
// state it holds, the person asking and the moment; the state it returns is published as
// one sequenced event (meetings/meeting_desk), or the reason it is refused goes back.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "haven.pb.h"
#include "meetings/meeting_clock.hpp"

namespace haven::meetings {

struct FloorActor {
    v1::Member member;  // as the room sees them, role included
    std::string subject;
    bool facilitator = false;  // a peer supporter of the room, or a moderator
};

struct FloorContext {
    const config::MeetingFloorConfig& config;
    MeetingNow now;
    std::uint64_t now_ms = 0;
    // Who is in the room, in order of arrival, and which of them facilitate: for rounds.
    std::vector<v1::Member> present;
    std::uint32_t max_hands = 0;  // the room's capacity
};

struct FloorRefusal {
    v1::ErrorCode code;
    std::string message;
};
// The state after the step (its version one more, `by` the actor), or nothing to change (an
// idempotent repeat, e.g. raising a raised hand), or why the step is refused.
struct Unchanged {};
using FloorStep = std::variant<v1::MeetingState, Unchanged, FloorRefusal>;

FloorStep apply_control(const v1::MeetingState& current, const v1::MeetingControl& control,
                        const FloorActor& actor, const FloorContext& context);

// A phase's own cross-talk mode: rounds and sharing give one person the floor at a time.
bool floor_only_by_default(v1::MeetingState::Phase phase);

// Whether `subject` (session `member_id`) holds the floor.
bool holds_floor(const v1::MeetingState& state, const std::string& subject,
                 const std::string& member_id);

// The state a room publishes when a share's time is up and the room cuts it off, or nothing.
std::optional<v1::MeetingState> cut_off_due(const v1::MeetingState& current,
                                            const config::MeetingFloorConfig& config,
                                            std::uint64_t now_ms);

}  // namespace haven::meetings
