// Server counters. Each shard owns one ShardCounters and is its only writer, so updates are
// uncontended relaxed atomics; the metrics endpoint sums all shards when it is scraped.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>

namespace haven::core {

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

private:
    std::deque<ShardCounters> shards_;  // deque: atomics are neither copyable nor movable
};

}  // namespace haven::core
