#include "rooms/alert_ladder.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace haven::rooms {

std::uint32_t due_step(const LadderTiming& timing, std::uint64_t now_ms, std::uint64_t raised_ms) {
    const std::uint64_t waited = now_ms > raised_ms ? now_ms - raised_ms : 0;
    if (waited < timing.claim_timeout_ms) return 0;
    const std::uint64_t past = waited - timing.claim_timeout_ms;
    const std::uint64_t steps = 1 + (timing.step_ms == 0 ? kWebhookStep : past / timing.step_ms);
    const std::uint32_t top = timing.webhook ? kWebhookStep : kWebhookStep - 1;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(steps, top));
}

std::uint64_t webhook_pause_ms(std::uint32_t tries_done) {
    constexpr std::uint64_t kFirstMs = 1000;
    constexpr std::uint64_t kLongestMs = 60'000;
    const std::uint32_t doublings = std::min<std::uint32_t>(tries_done > 0 ? tries_done - 1 : 0, 6);
    return std::min(kFirstMs << doublings, kLongestMs);
}

std::uint64_t webhook_hold_ms(std::uint32_t attempts, std::uint32_t timeout_ms) {
    constexpr std::uint64_t kMarginMs = 2000;
    std::uint64_t total = kMarginMs;
    for (std::uint32_t tries = 1; tries <= attempts; ++tries) {
        total += timeout_ms;
        if (tries < attempts) total += webhook_pause_ms(tries);
    }
    return total;
}

std::string_view ladder_step_name(std::uint32_t step) {
    switch (step) {
        case 1:
            return "global moderators called";
        case 2:
            return "operators called";
        case kWebhookStep:
            return "outside alert sent";
        default:
            return "not escalated";
    }
}

std::string webhook_body(const moderation::OpenQueue::Waiting& waiting, std::uint32_t step,
                         const std::string& instance_id, std::uint64_t now_ms) {
    const std::uint64_t waited = now_ms > waiting.time_ms ? now_ms - waiting.time_ms : 0;
    boost::json::object body;
    body["event"] = "urgent_item_unclaimed";
    body["item_id"] = waiting.id;
    body["room_id"] = waiting.room_id;
    body["raised_at_ms"] = waiting.time_ms;
    body["waited_seconds"] = waited / 1000;
    body["step"] = step;
    body["instance"] = instance_id;
    return boost::json::serialize(body);
}

}  // namespace haven::rooms
