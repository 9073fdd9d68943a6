// The escalation ladder of an urgent item nobody claims, as pure decisions (no clock, no I/O),
// so its timing is tested on its own. rooms::ServerWide takes the steps.
//
//   step 1  after claim_timeout:          global moderators are called
//   step 2  one escalation_step later:    operators are called
//   step 3  one escalation_step after it: the operators' webhook is sent (when configured)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "moderation/open_queue.hpp"

namespace haven::rooms {

inline constexpr std::uint32_t kWebhookStep = 3;

struct LadderTiming {
    std::uint64_t claim_timeout_ms = 60'000;
    std::uint64_t step_ms = 60'000;
    bool webhook = false;  // without one the ladder stops at step 2
};

// The webhook tries `attempts` times, pausing between tries from 1 s, doubling up to 60 s.
std::uint64_t webhook_pause_ms(std::uint32_t tries_done);
// How long the instance that sends an item's webhook holds it: every attempt with its timeout
// and the pauses between, and a margin. Past it, another instance may send it.
std::uint64_t webhook_hold_ms(std::uint32_t attempts, std::uint32_t timeout_ms);

// The step an item raised at `raised_ms` should have reached at `now_ms`.
std::uint32_t due_step(const LadderTiming& timing, std::uint64_t now_ms, std::uint64_t raised_ms);

// For the audit log and the client: "global moderators called", ...
std::string_view ladder_step_name(std::uint32_t step);

// The webhook's JSON: what happened, where and how long it has waited, never what anyone
// wrote or who they are.
std::string webhook_body(const moderation::OpenQueue::Waiting& waiting, std::uint32_t step,
                         const std::string& instance_id, std::uint64_t now_ms);

}  // namespace haven::rooms
