// The harness both broker suites share: a fixture per Broker implementation (the embedded
// memory broker, and the Redis broker on a real redis-server started once per test binary),
// each driving its own event loop until a condition holds, within a bound.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "broker/memory_broker.hpp"
#include "broker/redis/redis_broker.hpp"
#include "core/clock.hpp"
#include "support/recording_sink.hpp"
#include "support/redis_process.hpp"

namespace haven::test::broker_harness {

using namespace haven;
using broker::JoinOutcome;
using broker::PublishOutcome;

// The memory broker's sink sees every room; the Redis broker's only the subscribed ones, so
// checks read one room at a time.
struct RecordingSink : test::RecordingSink {
    std::vector<std::uint64_t> posted_seqs(const std::string& room = "a") const {
        return test::RecordingSink::posted_seqs(room);
    }
};

inline test::RedisProcess& shared_redis() {
    static test::RedisProcess redis;
    static const bool started = redis.start();
    REQUIRE(started);
    return redis;
}

inline std::string unique_prefix() {
    static std::mt19937_64 rng{std::random_device{}()};
    return "test" + std::to_string(rng() % 1'000'000'000) + ":";
}

// Shared by both fixtures: drive the event loop until a condition holds (bounded).
struct LoopFixture {
    boost::asio::io_context io;
    RecordingSink sink;
    config::HistoryConfig retention;

    bool run_until(const std::function<bool()>& done,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            io.restart();
            io.run_for(std::chrono::milliseconds(5));
        }
        return true;
    }
};

struct MemoryFixture : LoopFixture {
    broker::UserRateLimiter limiter;
    std::unique_ptr<broker::Broker> broker;
    void start() {
        broker = std::make_unique<broker::MemoryBroker>(
            retention, sink, [] { return core::wall_ms(); }, nullptr, &limiter);
    }
};

struct RedisFixture : LoopFixture {
    std::unique_ptr<broker::redis::RedisBroker> broker;
    core::Metrics metrics{1};
    std::string prefix = unique_prefix();
    void start() {
        broker::redis::RedisBrokerOptions options;
        options.endpoint = *broker::redis::parse_redis_url(shared_redis().url());
        options.key_prefix = prefix;
        options.instance_id = "contract";
        options.retention = retention;
        // Shard 0's part: the server-wide channels (global events, moderation items).
        options.keeps_instance_alive = true;
        options.instance_id = "contract-" + prefix;
        broker = std::make_unique<broker::redis::RedisBroker>(io, options, sink, metrics.shard(0));
        broker->start();
        REQUIRE(run_until([&] { return broker->healthy(); }));
    }
};

template <class Fixture>
struct Harness : Fixture {
    PublishOutcome post(const std::string& room, const std::string& text,
                        const std::string& key = "", broker::AuthorLimit limit = {}) {
        auto event = std::make_unique<v1::Event>();
        event->set_room_id(room);
        event->mutable_posted()->set_text(text);
        std::optional<PublishOutcome> result;
        this->broker->publish(std::move(event), key, std::move(limit),
                              [&](PublishOutcome o) { result = o; });
        REQUIRE(this->run_until([&] { return result.has_value(); }));
        return *result;
    }
    broker::HistorySlice read(broker::HistoryQuery query) {
        std::optional<broker::HistorySlice> result;
        this->broker->read_history(std::move(query),
                                   [&](broker::HistorySlice s) { result = std::move(s); });
        REQUIRE(this->run_until([&] { return result.has_value(); }));
        return *result;
    }
    // Subscribes the way a Hub does on a room's first local member: subscribe, then read.
    void watch(const std::string& room) {
        this->broker->subscribe(room);
        broker::HistoryQuery query;
        query.room_id = room;
        read(query);
    }
    JoinOutcome join(const std::string& room, const std::string& id, std::uint32_t capacity) {
        v1::PresenceRecord member;
        member.mutable_member()->set_member_id(id);
        member.mutable_member()->set_handle("h-" + id);
        member.set_subject("subject-" + id);
        std::optional<JoinOutcome> result;
        this->broker->add_member(room, member, capacity, [&](JoinOutcome o) { result = o; });
        REQUIRE(this->run_until([&] { return result.has_value(); }));
        return *result;
    }
    broker::PresenceSnapshot presence(const std::string& room) {
        std::optional<std::optional<broker::PresenceSnapshot>> result;
        this->broker->read_presence(room, [&](std::optional<broker::PresenceSnapshot> snapshot) {
            result = std::move(snapshot);
        });
        REQUIRE(this->run_until([&] { return result.has_value(); }));
        REQUIRE(result->has_value());
        return **result;
    }
    std::optional<std::uint32_t> leave(const std::string& room, const std::string& id) {
        v1::Member member;
        member.set_member_id(id);
        bool called = false;
        std::optional<std::uint32_t> remaining;
        this->broker->remove_member(room, member, [&](std::optional<std::uint32_t> r) {
            remaining = r;
            called = true;
        });
        REQUIRE(this->run_until([&] { return called; }));
        return remaining;
    }
};

inline std::vector<std::uint64_t> seqs(const broker::HistorySlice& slice) {
    std::vector<std::uint64_t> out;
    for (const auto& event : slice.events) out.push_back(event->seq());
    return out;
}

using Memory = Harness<MemoryFixture>;
using Redis = Harness<RedisFixture>;

// Waits for a callback-style broker call and returns what it passed.
template <class T, class H, class Call>
T await_result(H& h, Call call) {
    std::optional<T> result;
    call([&](T value) { result = std::move(value); });
    REQUIRE(h.run_until([&] { return result.has_value(); }));
    return std::move(*result);
}

}  // namespace haven::test::broker_harness
