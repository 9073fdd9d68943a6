#include "core/metrics.hpp"

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <functional>

namespace haven::core {
namespace {

struct MetricSpec {
    const char* name;
    const char* type;
    const char* help;
    std::function<std::uint64_t(const ShardCounters&)> read;
};

std::uint64_t load(const ShardCounters::Counter& c) {
    return c.load(std::memory_order_relaxed);
}

}  // namespace

// Claims observed here, escalation steps this instance took, and its webhook's deliveries.
std::string Metrics::render_alerts() const {
    std::string out =
        "# HELP haven_alert_claim_seconds Time from an item being raised to a moderator "
        "claiming it (claims made on this instance).\n# TYPE haven_alert_claim_seconds "
        "histogram\n";
    for (std::size_t i = 0; i < Alerts::kClaimBuckets; ++i) {
        char bound[32];
        std::snprintf(bound, sizeof bound, "%g", Alerts::kClaimBucketsSeconds[i]);
        out += "haven_alert_claim_seconds_bucket{le=\"" + std::string(bound) + "\"} " +
               std::to_string(alerts.claim_le[i].load()) + "\n";
    }
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.3f", alerts.claim_sum_ms.load() / 1000.0);
    out += "haven_alert_claim_seconds_bucket{le=\"+Inf\"} " +
           std::to_string(alerts.claim_count.load()) + "\n";
    out += "haven_alert_claim_seconds_sum " + std::string(sum) + "\n";
    out += "haven_alert_claim_seconds_count " + std::to_string(alerts.claim_count.load()) + "\n";
    out +=
        "# HELP haven_alert_escalations_total Unclaimed urgent items moved up the ladder by this "
        "instance, by step (1 global moderators, 2 operators, 3 webhook).\n"
        "# TYPE haven_alert_escalations_total counter\n";
    for (std::size_t step = 0; step < Alerts::kSteps; ++step) {
        out += "haven_alert_escalations_total{step=\"" + std::to_string(step + 1) + "\"} " +
               std::to_string(alerts.escalations[step].load()) + "\n";
    }
    out +=
        "# HELP haven_alert_webhook_sent_total Alerts the webhook receiver accepted.\n"
        "# TYPE haven_alert_webhook_sent_total counter\nhaven_alert_webhook_sent_total " +
        std::to_string(alerts.webhook_sent.load()) + "\n";
    out +=
        "# HELP haven_alert_webhook_failures_total Alerts the webhook could not deliver after "
        "every attempt (or had no room to queue).\n"
        "# TYPE haven_alert_webhook_failures_total counter\nhaven_alert_webhook_failures_total " +
        std::to_string(alerts.webhook_failures.load()) + "\n";
    out +=
        "# HELP haven_crisis_followups_total People who left right after a crisis post and were "
        "not back in the grace period, reported to a moderator by this instance.\n"
        "# TYPE haven_crisis_followups_total counter\nhaven_crisis_followups_total " +
        std::to_string(alerts.followups.load()) + "\n";
    return out;
}

std::string Metrics::render() const {
    static const MetricSpec specs[] = {
        {"haven_connections", "gauge", "Open WebSocket connections.",
         [](const ShardCounters& s) {
             return load(s.connections_opened) - load(s.connections_closed);
         }},
        {"haven_connections_total", "counter", "WebSocket connections accepted.",
         [](const ShardCounters& s) { return load(s.connections_opened); }},
        {"haven_rooms_active", "gauge", "Rooms with at least one member.",
         [](const ShardCounters& s) { return load(s.rooms_owned_active); }},
        {"haven_frames_in_total", "counter", "Frames received from clients.",
         [](const ShardCounters& s) { return load(s.frames_in); }},
        {"haven_bad_frames_total", "counter", "Client frames that could not be decoded.",
         [](const ShardCounters& s) { return load(s.bad_frames); }},
        {"haven_posts_acked_total", "counter", "Posts stored and acknowledged.",
         [](const ShardCounters& s) { return load(s.posts_acked); }},
        {"haven_posts_duplicate_total", "counter", "Retried posts acknowledged again.",
         [](const ShardCounters& s) { return load(s.posts_duplicate); }},
        {"haven_deliveries_total", "counter", "Event frames queued to client connections.",
         [](const ShardCounters& s) { return load(s.deliveries); }},
        {"haven_rate_limited_total", "counter", "Requests refused by a rate limit.",
         [](const ShardCounters& s) { return load(s.rate_limited); }},
        {"haven_slow_consumer_disconnects_total", "counter",
         "Connections closed because their outbound queue overflowed.",
         [](const ShardCounters& s) { return load(s.slow_consumer_disconnects); }},
        {"haven_redis_reconnects_total", "counter", "Redis connection attempts after a loss.",
         [](const ShardCounters& s) { return load(s.redis_reconnects); }},
        {"haven_join_sync_timeouts_total", "counter",
         "Joins refused because the room's live stream did not reach their snapshot in time.",
         [](const ShardCounters& s) { return load(s.join_sync_timeouts); }},
        {"haven_presence_refreshes_total", "counter",
         "Member lists re-read because a presence change was missed or a subscription remade.",
         [](const ShardCounters& s) { return load(s.presence_refreshes); }},
    };
    std::string out;
    std::uint64_t crisis_alerts = 0;
    std::uint64_t concerns = 0;
    for (const auto& shard : shards_) concerns += load(shard.crisis_concerns);
    for (const auto& spec : specs) {
        std::uint64_t total = 0;
        for (const auto& shard : shards_) total += spec.read(shard);
        out += "# HELP " + std::string(spec.name) + " " + spec.help + "\n";
        out += "# TYPE " + std::string(spec.name) + " " + spec.type + "\n";
        out += std::string(spec.name) + " " + std::to_string(total) + "\n";
    }
    out +=
        "# HELP haven_refused_total Connections, guests and requests an abuse limit turned "
        "away, by limit.\n# TYPE haven_refused_total counter\n";
    for (std::size_t i = 1; i < kRefusalKinds; ++i) {
        std::uint64_t total = 0;
        for (const auto& shard : shards_) total += load(shard.refused[i]);
        out += "haven_refused_total{reason=\"" +
               std::string(refusal_label(static_cast<Refusal>(i))) + "\"} " +
               std::to_string(total) + "\n";
    }
    out +=
        "# HELP haven_moderation_actions_total Moderator actions and automatic moderation "
        "decisions, by the action the audit log records.\n"
        "# TYPE haven_moderation_actions_total counter\n";
    for (std::size_t i = 0; i < kAuditedActionKinds; ++i) {
        std::uint64_t total = 0;
        for (const auto& shard : shards_) total += load(shard.actions[i]);
        out += "haven_moderation_actions_total{action=\"" + std::string(kAuditedActions[i]) +
               "\"} " + std::to_string(total) + "\n";
        if (kAuditedActions[i] == "crisis_detected") crisis_alerts = total;
    }
    out +=
        "# HELP haven_crisis_alerts_total Crisis alerts raised by posts, by severity.\n"
        "# TYPE haven_crisis_alerts_total counter\n"
        "haven_crisis_alerts_total{severity=\"urgent\"} " +
        std::to_string(crisis_alerts - std::min(crisis_alerts, concerns)) + "\n" +
        "haven_crisis_alerts_total{severity=\"concern\"} " + std::to_string(concerns) + "\n";
    std::uint64_t moderators = 0;
    for (const auto& shard : shards_) moderators += load(shard.moderators_online);
    out +=
        "# HELP haven_moderators_online Moderators connected to this instance.\n"
        "# TYPE haven_moderators_online gauge\n"
        "haven_moderators_online " +
        std::to_string(moderators) + "\n";
    out +=
        "# HELP haven_moderation_queue_items Items waiting for a moderator in the whole "
        "deployment, by kind (the same on every instance).\n"
        "# TYPE haven_moderation_queue_items gauge\n";
    out += "haven_moderation_queue_items{kind=\"urgent\"} " + std::to_string(queue.urgent.load()) +
           "\n";
    out += "haven_moderation_queue_items{kind=\"flagged\"} " +
           std::to_string(queue.flagged.load()) + "\n";
    out +=
        "haven_moderation_queue_items{kind=\"held\"} " + std::to_string(queue.held.load()) + "\n";
    const std::uint64_t oldest = queue.oldest_urgent_ms.load();
    const std::uint64_t now_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    const double age = oldest == 0 || oldest > now_ms ? 0.0 : (now_ms - oldest) / 1000.0;
    char age_text[32];
    std::snprintf(age_text, sizeof age_text, "%.3f", age);
    out +=
        "# HELP haven_moderation_oldest_urgent_seconds How long the oldest open urgent item has "
        "waited (0: none open).\n# TYPE haven_moderation_oldest_urgent_seconds gauge\n"
        "haven_moderation_oldest_urgent_seconds " +
        std::string(age_text) + "\n";
    out +=
        "# HELP haven_alerts_unclaimed Open urgent items nobody has claimed (the whole "
        "deployment).\n# TYPE haven_alerts_unclaimed gauge\nhaven_alerts_unclaimed " +
        std::to_string(queue.unclaimed_urgent.load()) + "\n";
    out +=
        "# HELP haven_on_duty_moderators Moderators on duty in the whole deployment.\n"
        "# TYPE haven_on_duty_moderators gauge\nhaven_on_duty_moderators " +
        std::to_string(queue.on_duty_moderators.load()) + "\n";
    out += render_alerts();
    out +=
        "# HELP haven_draining Whether this instance is draining (1) or serving (0).\n"
        "# TYPE haven_draining gauge\n";
    out += std::string("haven_draining ") + (draining.load() ? "1" : "0") + "\n";

    out +=
        "# HELP haven_broker_publish_seconds Time from a post reaching its room to being "
        "stored by the broker.\n# TYPE haven_broker_publish_seconds histogram\n";
    for (std::size_t i = 0; i < ShardCounters::kLatencyBuckets; ++i) {
        std::uint64_t total = 0;
        for (const auto& shard : shards_) total += load(shard.publish_latency_le[i]);
        char bound[32];
        std::snprintf(bound, sizeof bound, "%g", ShardCounters::kLatencyBucketsMs[i] / 1000.0);
        out += "haven_broker_publish_seconds_bucket{le=\"" + std::string(bound) + "\"} " +
               std::to_string(total) + "\n";
    }
    std::uint64_t count = 0, sum_us = 0;
    for (const auto& shard : shards_) {
        count += load(shard.publish_latency_count);
        sum_us += load(shard.publish_latency_sum_us);
    }
    out += "haven_broker_publish_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(sum_us) / 1e6);
    out += "haven_broker_publish_seconds_sum " + std::string(sum) + "\n";
    out += "haven_broker_publish_seconds_count " + std::to_string(count) + "\n";
    return out;
}

}  // namespace haven::core
