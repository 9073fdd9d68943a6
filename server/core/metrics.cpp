#include "core/metrics.hpp"

#include <functional>

namespace haven::core {
namespace {

struct MetricSpec {
    const char* name;
    const char* type;
    const char* help;
    std::function<std::uint64_t(const ShardCounters&)> read;
};

std::uint64_t load(const ShardCounters::Counter& c) { return c.load(std::memory_order_relaxed); }

}  // namespace

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
    };
    std::string out;
    for (const auto& spec : specs) {
        std::uint64_t total = 0;
        for (const auto& shard : shards_) total += spec.read(shard);
        out += "# HELP " + std::string(spec.name) + " " + spec.help + "\n";
        out += "# TYPE " + std::string(spec.name) + " " + spec.type + "\n";
        out += std::string(spec.name) + " " + std::to_string(total) + "\n";
    }
    return out;
}

}  // namespace haven::core
