// Server counters. Each shard owns one ShardCounters and is its only writer, so updates are
// uncontended relaxed atomics; the metrics endpoint sums all shards when it is scraped.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <iterator>
#include <string>
#include <string_view>

#include "core/refusal.hpp"

namespace haven::core {

// What the audit log records, each counted in haven_moderation_actions_total{action}: the
// moderators' actions and the automatic decisions (flag, auto_hide, hold_post,
// crisis_detected, escalate_item, author_left, hold_expired, check_in), and agreements_accepted
// (someone agreed to a meeting's agreements to join it).
inline constexpr std::string_view kAuditedActions[] = {"hide_post",
                                                       "restore_post",
                                                       "mute",
                                                       "unmute",
                                                       "kick",
                                                       "ban",
                                                       "ban_global",
                                                       "unban",
                                                       "unban_global",
                                                       "lock_room",
                                                       "unlock_room",
                                                       "slow_mode",
                                                       "resolve_flags",
                                                       "release_post",
                                                       "reject_post",
                                                       "flag",
                                                       "auto_hide",
                                                       "hold_post",
                                                       "crisis_detected",
                                                       "claim_item",
                                                       "resolve_item",
                                                       "escalate_item",
                                                       "author_left",
                                                       "hold_expired",
                                                       "check_in",
                                                       "agreements_accepted"};
inline constexpr std::size_t kAuditedActionKinds = std::size(kAuditedActions);

struct ShardCounters {
    using Counter = std::atomic<std::uint64_t>;
    Counter connections_opened{0};
    Counter connections_closed{0};
    Counter frames_in{0};
    Counter bad_frames{0};
    Counter posts_acked{0};
    Counter posts_duplicate{0};
    Counter deliveries{0};
    Counter rate_limited{0};
    Counter slow_consumer_disconnects{0};
    Counter rooms_owned_active{0};  // rooms owned by this shard with at least one member
    Counter redis_reconnects{0};
    Counter join_sync_timeouts{0};           // joins whose snapshot the live stream never reached
    Counter presence_refreshes{0};           // member lists re-read after a missed presence change
    Counter refused[kRefusalKinds]{};        // by core::Refusal: what the abuse limits turned away
    Counter actions[kAuditedActionKinds]{};  // by kAuditedActions
    Counter moderators_online{0};            // gauge: sessions here that moderate anything
    Counter crisis_concerns{0};  // crisis_detected at severity "concern" (the rest are urgent)

    // Broker publish latency (request to stored), cumulative buckets in milliseconds.
    static constexpr double kLatencyBucketsMs[] = {0.1, 0.25, 0.5, 1,   2.5, 5,
                                                   10,  25,   50,  100, 250, 1000};
    static constexpr std::size_t kLatencyBuckets = std::size(kLatencyBucketsMs);
    Counter publish_latency_le[kLatencyBuckets]{};
    Counter publish_latency_count{0};
    Counter publish_latency_sum_us{0};

    void observe_publish_latency(double milliseconds) {
        for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
            if (milliseconds <= kLatencyBucketsMs[i]) add(publish_latency_le[i]);
        }
        add(publish_latency_count);
        add(publish_latency_sum_us, static_cast<std::uint64_t>(milliseconds * 1000.0));
    }

    void refuse(Refusal reason) { add(refused[static_cast<std::size_t>(reason)]); }
    void count_action(std::string_view action) {
        for (std::size_t i = 0; i < kAuditedActionKinds; ++i) {
            if (kAuditedActions[i] == action) return add(actions[i]);
        }
    }

    void add(Counter& counter, std::uint64_t n = 1) {
        counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void sub(Counter& counter, std::uint64_t n = 1) {
        counter.store(counter.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    }
};

class Metrics {
public:
    explicit Metrics(unsigned shards) : shards_(shards) {}
    ShardCounters& shard(unsigned index) { return shards_[index]; }
    // Prometheus text exposition format, version 0.0.4.
    std::string render() const;

    // Set while the instance drains (SIGTERM): readiness fails and the gauge shows it.
    std::atomic<bool> draining{false};

    // The moderation queue of the whole deployment as this instance last saw it (shard 0
    // writes it, moderation/open_queue): what waits for a moderator, and since when.
    struct Queue {
        std::atomic<std::uint64_t> urgent{0};            // crisis items and crisis flags
        std::atomic<std::uint64_t> flagged{0};           // flagged posts (auto-hidden ones too)
        std::atomic<std::uint64_t> held{0};              // held posts
        std::atomic<std::uint64_t> oldest_urgent_ms{0};  // wall time; 0 = none open
        std::atomic<std::uint64_t> unclaimed_urgent{0};  // urgent items nobody has claimed
        // People on duty who moderate a room (rooms/duty_board), on any instance.
        std::atomic<std::uint64_t> on_duty_moderators{0};
    } queue;

    // Crisis alerts answered: how long claims took, how far unclaimed ones climbed, and the
    // webhook. Written from any thread (claims happen on the room's shard, the webhook on its
    // own thread), so these are plain atomic additions.
    struct Alerts {
        static constexpr double kClaimBucketsSeconds[] = {5, 15, 30, 60, 120, 300, 600, 1800};
        static constexpr std::size_t kClaimBuckets = std::size(kClaimBucketsSeconds);
        static constexpr std::size_t kSteps = 3;
        std::atomic<std::uint64_t> claim_le[kClaimBuckets]{};
        std::atomic<std::uint64_t> claim_count{0};
        std::atomic<std::uint64_t> claim_sum_ms{0};
        std::atomic<std::uint64_t> escalations[kSteps]{};  // by step - 1
        std::atomic<std::uint64_t> webhook_sent{0};
        std::atomic<std::uint64_t> webhook_failures{0};  // alerts given up on after every try
        std::atomic<std::uint64_t> followups{0};  // AUTHOR_LEFT notices sent by this instance

        void observe_claim(std::uint64_t waited_ms) {
            for (std::size_t i = 0; i < kClaimBuckets; ++i) {
                if (waited_ms <= kClaimBucketsSeconds[i] * 1000) claim_le[i].fetch_add(1);
            }
            claim_count.fetch_add(1);
            claim_sum_ms.fetch_add(waited_ms);
        }
    } alerts;

private:
    std::string render_alerts() const;

    std::deque<ShardCounters> shards_;  // deque: atomics are neither copyable nor movable
};

}  // namespace haven::core
