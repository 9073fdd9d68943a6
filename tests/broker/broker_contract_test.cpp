// The Broker contract, written once and run against every implementation: the embedded
// memory broker and the Redis broker on a real redis-server started for this test binary.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "broker/memory_broker.hpp"
#include "broker/redis/redis_broker.hpp"
#include "core/clock.hpp"
#include "support/recording_sink.hpp"
#include "support/redis_process.hpp"

using namespace haven;
using broker::JoinOutcome;
using broker::PublishOutcome;

namespace {

// The memory broker's sink sees every room; the Redis broker's only the subscribed ones, so
// checks read one room at a time.
struct RecordingSink : test::RecordingSink {
    std::vector<std::uint64_t> posted_seqs(const std::string& room = "a") const {
        return test::RecordingSink::posted_seqs(room);
    }
};

test::RedisProcess& shared_redis() {
    static test::RedisProcess redis;
    static const bool started = redis.start();
    REQUIRE(started);
    return redis;
}

std::string unique_prefix() {
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

std::vector<std::uint64_t> seqs(const broker::HistorySlice& slice) {
    std::vector<std::uint64_t> out;
    for (const auto& event : slice.events) out.push_back(event->seq());
    return out;
}

using Memory = Harness<MemoryFixture>;
using Redis = Harness<RedisFixture>;

}  // namespace

TEST_CASE_TEMPLATE("publish sequences per room, stores, and delivers in order", H, Memory, Redis) {
    H h;
    h.start();
    h.watch("a");
    CHECK(h.post("b", "other room").seq == 1);
    for (std::uint64_t i = 1; i <= 20; ++i) CHECK(h.post("a", "m" + std::to_string(i)).seq == i);
    REQUIRE(h.run_until([&] { return h.sink.posted_seqs().size() == 20; }));
    std::vector<std::uint64_t> expected(20);
    for (std::uint64_t i = 0; i < 20; ++i) expected[i] = i + 1;
    CHECK(h.sink.posted_seqs() == expected);
    CHECK(h.sink.events.back()->posted().text() == "m20");
    CHECK(h.sink.events.back()->time_ms() > 0);
}

TEST_CASE_TEMPLATE("a repeated dedupe key is a duplicate with the original seq", H, Memory, Redis) {
    H h;
    h.start();
    h.watch("a");
    CHECK(h.post("a", "x", "alice\nm1").status == PublishOutcome::Status::published);
    h.post("a", "y", "alice\nm2");
    const PublishOutcome retry = h.post("a", "x", "alice\nm1");
    CHECK(retry.status == PublishOutcome::Status::duplicate);
    CHECK(retry.seq == 1);
    CHECK(h.post("a", "z").seq == 3);
    REQUIRE(h.run_until([&] { return h.sink.posted_seqs().size() == 3; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    h.run_until([] { return false; }, std::chrono::milliseconds(50));
    CHECK(h.sink.posted_seqs() == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE_TEMPLATE("a person's post budget is shared and retries are not charged", H, Memory,
                   Redis) {
    H h;
    h.start();
    const std::string alice = "alice-" + unique_prefix();
    const broker::AuthorLimit budget{alice, 0.5, 3};
    CHECK(h.post("a", "1", alice + "\n1", budget).status == PublishOutcome::Status::published);
    CHECK(h.post("b", "2", alice + "\n2", budget).status == PublishOutcome::Status::published);
    CHECK(h.post("a", "3", alice + "\n3", budget).status == PublishOutcome::Status::published);
    const PublishOutcome spent = h.post("b", "4", alice + "\n4", budget);
    CHECK(spent.status == PublishOutcome::Status::rate_limited);
    CHECK(spent.retry_after_ms > 0);
    CHECK(spent.retry_after_ms <= 2001);
    // A retry of something already stored is still acknowledged.
    CHECK(h.post("a", "3", alice + "\n3", budget).status == PublishOutcome::Status::duplicate);
    // Someone else's budget is their own.
    const broker::AuthorLimit other{"bob-" + unique_prefix(), 0.5, 3};
    CHECK(h.post("a", "5", "", other).status == PublishOutcome::Status::published);
}

TEST_CASE_TEMPLATE("history pages and retention by count", H, Memory, Redis) {
    H h;
    h.retention.max_events = 5;
    h.start();
    for (int i = 0; i < 8; ++i) h.post("a", std::to_string(i));
    broker::HistoryQuery query;
    query.room_id = "a";
    query.limit = 100;
    auto slice = h.read(query);
    CHECK(seqs(slice) == std::vector<std::uint64_t>{4, 5, 6, 7, 8});
    CHECK(slice.oldest_seq == 4);
    CHECK(slice.last_seq == 8);

    query.limit = 2;
    query.before_seq = 7;
    slice = h.read(query);
    CHECK(seqs(slice) == std::vector<std::uint64_t>{5, 6});
    CHECK(slice.has_more);

    query.before_seq = 0;
    query.after_seq = 5;
    query.newest = false;
    slice = h.read(query);
    CHECK(seqs(slice) == std::vector<std::uint64_t>{6, 7});
    CHECK(slice.has_more);
    CHECK(slice.complete);

    query.after_seq = 2;  // 3 was trimmed
    query.limit = 100;
    slice = h.read(query);
    CHECK_FALSE(slice.complete);
    CHECK(seqs(slice) == std::vector<std::uint64_t>{4, 5, 6, 7, 8});

    query.after_seq = 99;  // never reached: history from before a reset
    CHECK_FALSE(h.read(query).complete);
}

TEST_CASE_TEMPLATE("presence: join, capacity, duplicates and leave, announced", H, Memory, Redis) {
    H h;
    h.start();
    h.watch("room");
    auto first = h.join("room", "m1", 2);
    CHECK(first.status == JoinOutcome::Status::joined);
    CHECK(first.members.size() == 1);
    CHECK(h.join("room", "m1", 2).status == JoinOutcome::Status::already_member);
    auto second = h.join("room", "m2", 2);
    CHECK(second.status == JoinOutcome::Status::joined);
    CHECK(second.members.size() == 2);
    CHECK(h.join("room", "m3", 2).status == JoinOutcome::Status::full);
    CHECK(h.leave("room", "m1") == 1u);
    CHECK(h.leave("room", "m1") == 1u);  // twice: announced once
    CHECK(h.join("room", "m3", 2).status == JoinOutcome::Status::joined);
    REQUIRE(h.run_until([&] {
        return h.sink.count(v1::Event::kMemberJoined) == 3 &&
               h.sink.count(v1::Event::kMemberLeft) == 1;
    }));
}

TEST_CASE_TEMPLATE("presence versions count every arrival and departure, once, in order", H, Memory,
                   Redis) {
    H h;
    h.start();
    h.watch("room");
    CHECK(h.presence("room").version == 0);
    CHECK(h.join("room", "m1", 10).presence_version == 1);
    CHECK(h.join("room", "m2", 10).presence_version == 2);
    CHECK(h.join("room", "m2", 10).status == JoinOutcome::Status::already_member);
    CHECK(h.leave("room", "m1") == 1u);
    CHECK(h.leave("room", "m1") == 1u);  // not a change: no new version
    const broker::PresenceSnapshot snapshot = h.presence("room");
    CHECK(snapshot.version == 3);
    REQUIRE(snapshot.members.size() == 1);
    CHECK(snapshot.members[0].member_id() == "m2");
    CHECK(snapshot.members[0].handle() == "h-m2");
    REQUIRE(h.run_until([&] {
        return h.sink.count(v1::Event::kMemberJoined) + h.sink.count(v1::Event::kMemberLeft) == 3;
    }));
    std::vector<std::uint64_t> versions;
    for (const auto& event : h.sink.events) {
        if (event->has_member_joined() || event->has_member_left()) {
            versions.push_back(event->presence_version());
        }
    }
    CHECK(versions == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE_TEMPLATE("known roles are remembered, raised only, and read back", H, Memory, Redis) {
    H h;
    h.start();
    const auto find = [&](const std::string& subject) {
        std::optional<broker::RoleLookup> result;
        h.broker->find_role(subject, [&](broker::RoleLookup lookup) { result = lookup; });
        REQUIRE(h.run_until([&] { return result.has_value(); }));
        REQUIRE(result->ok);
        return result->known;
    };
    CHECK_FALSE(find("sub-nobody").has_value());
    h.broker->record_role("sub-op", broker::KnownRole{v1::ROLE_OPERATOR, {}});
    h.broker->record_role("sub-op",
                          broker::KnownRole{v1::ROLE_PARTICIPANT, {{"lobby", v1::ROLE_MODERATOR}}});
    const auto known = find("sub-op");
    REQUIRE(known.has_value());
    CHECK(known->role == v1::ROLE_OPERATOR);
    CHECK(known->room_roles.at("lobby") == v1::ROLE_MODERATOR);
    CHECK(known->in_room("elsewhere") == v1::ROLE_OPERATOR);
}

TEST_CASE_TEMPLATE("delivered_seq is the last event handed to the sink", H, Memory, Redis) {
    H h;
    h.start();
    h.watch("a");
    CHECK(h.broker->delivered_seq("a") == std::optional<std::uint64_t>(0));
    h.post("a", "one");
    h.post("a", "two");
    REQUIRE(h.run_until([&] { return h.sink.posted_seqs().size() == 2; }));
    CHECK(h.broker->delivered_seq("a") == std::optional<std::uint64_t>(2));
}

TEST_CASE_TEMPLATE("ephemeral events reach the sink without a sequence number", H, Memory, Redis) {
    H h;
    h.start();
    h.watch("a");
    auto event = std::make_shared<v1::Event>();
    event->set_room_id("a");
    event->mutable_typing()->set_active(true);
    h.broker->publish_ephemeral(event);
    REQUIRE(h.run_until([&] { return h.sink.count(v1::Event::kTyping) == 1; }));
    CHECK(h.sink.events.back()->seq() == 0);
    CHECK(h.post("a", "first").seq == 1);
}

TEST_CASE("redis: while Redis is down requests fail fast, and service resumes by itself") {
    Redis h;
    h.start();
    h.watch("a");
    CHECK(h.post("a", "before").seq == 1);
    shared_redis().stop();
    REQUIRE(h.run_until([&] { return !h.broker->healthy(); }));
    CHECK(h.post("a", "during").status == PublishOutcome::Status::unavailable);
    broker::HistoryQuery query;
    query.room_id = "a";
    CHECK_FALSE(h.read(query).ok);
    REQUIRE(shared_redis().start());
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }, std::chrono::seconds(10)));
    // The append-only file kept what was acknowledged: numbering continues.
    CHECK(h.post("a", "after").seq == 2);
    REQUIRE(h.run_until([&] { return h.sink.posted_seqs().size() == 2; }));
    CHECK(h.sink.posted_seqs() == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("redis: a lost subscription catches up from the stream, in order, once") {
    Redis watcher;
    watcher.start();
    watcher.watch("a");
    Redis publisher;
    publisher.prefix = watcher.prefix;
    publisher.start();
    publisher.post("a", "1");
    REQUIRE(watcher.run_until([&] { return watcher.sink.posted_seqs().size() == 1; }));
    // Cut every pub/sub connection; publish while the watcher is resubscribing.
    shared_redis().command("CLIENT KILL TYPE pubsub");
    for (int i = 2; i <= 6; ++i) publisher.post("a", std::to_string(i));
    REQUIRE(watcher.run_until([&] { return watcher.sink.posted_seqs().size() >= 6; },
                              std::chrono::seconds(10)));
    watcher.run_until([] { return false; }, std::chrono::milliseconds(100));
    CHECK(watcher.sink.posted_seqs() == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
    // The sink hears that the room's subscription was made again (presence has no stream
    // to catch up from: the sink reads it afresh).
    CHECK(std::count(watcher.sink.resubscribed.begin(), watcher.sink.resubscribed.end(), "a") >= 2);
}

TEST_CASE("redis: members of an instance that stops heartbeating are removed and announced") {
    const std::string prefix = unique_prefix();
    auto make = [&](Redis& h, const std::string& id) {
        broker::redis::RedisBrokerOptions options;
        options.endpoint = *broker::redis::parse_redis_url(shared_redis().url());
        options.key_prefix = prefix;
        options.instance_id = id;
        options.keeps_instance_alive = true;
        options.instance_timeout = std::chrono::milliseconds(1500);
        options.heartbeat_interval = std::chrono::milliseconds(300);
        h.broker =
            std::make_unique<broker::redis::RedisBroker>(h.io, options, h.sink, h.metrics.shard(0));
        h.broker->start();
        REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    };
    Redis survivor;
    make(survivor, "survivor");
    survivor.watch("room");
    {
        Redis doomed;
        make(doomed, "doomed");
        CHECK(doomed.join("room", "doomed-1", 10).status == JoinOutcome::Status::joined);
        CHECK(doomed.join("room", "doomed-2", 10).status == JoinOutcome::Status::joined);
        // Destroyed without shutdown(): like a SIGKILL, nothing is cleaned up by the victim.
    }
    CHECK(survivor.join("room", "alive-1", 10).members.size() == 3);
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(survivor.run_until([&] { return survivor.sink.count(v1::Event::kMemberLeft) == 2; },
                               std::chrono::seconds(10)));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(survivor.join("room", "alive-2", 10).members.size() == 2);
}
