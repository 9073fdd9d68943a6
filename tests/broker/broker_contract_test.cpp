// The Broker contract, written once and run against every implementation: the embedded
// memory broker and the Redis broker on a real redis-server started for this test binary.
// Over 400 lines: the contract is one list of cases, run against both brokers.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "broker_harness.hpp"

using namespace haven;
using broker::JoinOutcome;
using broker::PublishOutcome;

using namespace haven::test::broker_harness;

namespace {

std::unique_ptr<v1::Event> mute_event(const std::string& room, const std::string& subject) {
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(room);
    event->mutable_member_muted()->set_subject(subject);
    return event;
}

// An open urgent crisis alert in room "a".
v1::ModerationItem crisis_alert(const std::string& id) {
    v1::ModerationItem item;
    item.set_id(id);
    item.set_kind(v1::ModerationItem::CRISIS);
    item.set_room_id("a");
    item.set_urgent(true);
    item.set_time_ms(1000);
    return item;
}

// An update of kind `kind` about `item`.
v1::ModerationItem update_of(const v1::ModerationItem& item, v1::ModerationItem::Kind kind) {
    v1::ModerationItem update;
    update.set_id(item.id());
    update.set_kind(kind);
    update.set_room_id(item.room_id());
    return update;
}

// The one item of the stored queue.
template <class H>
v1::ModerationItem only_stored(H& h) {
    auto items = await_result<std::optional<std::vector<v1::ModerationItem>>>(
        h, [&](auto done) { h.broker->read_moderation_queue(done); });
    REQUIRE(items.has_value());
    REQUIRE(items->size() == 1);
    return items->front();
}

// Whether a once-only step (escalate_item, mark_author_left) was taken by this call.
template <class H, class Call>
bool step_taken(H& h, Call call) {
    auto took = await_result<std::optional<bool>>(h, call);
    REQUIRE(took.has_value());
    return *took;
}

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
    // Whose session each member is, for a server that waits for a person's return.
    CHECK(snapshot.subjects == std::vector<std::string>{"subject-m2"});
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

namespace {

// Two instances on one Redis: `watcher` subscribed to room "a", `publisher` posting there,
// with the first post ("1") already delivered to the watcher.
void watch_and_publish_first(Redis& watcher, Redis& publisher) {
    watcher.start();
    watcher.watch("a");
    publisher.prefix = watcher.prefix;
    publisher.start();
    publisher.post("a", "1");
    REQUIRE(watcher.run_until([&] { return watcher.sink.posted_seqs().size() == 1; }));
}

}  // namespace

TEST_CASE("redis: a lost subscription catches up from the stream, in order, once") {
    Redis watcher;
    Redis publisher;
    watch_and_publish_first(watcher, publisher);
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

TEST_CASE_TEMPLATE("room state: changes with their event, alone, and read back", H, Memory, Redis) {
    H h;
    h.start();
    h.watch("a");
    const auto published = await_result<PublishOutcome>(h, [&](auto done) {
        h.broker->publish_with_state(mute_event("a", "sub-x"),
                                     moderation::StateChange::set("mute:sub-x", "99"), done);
    });
    CHECK(published.status == PublishOutcome::Status::published);
    CHECK(published.seq == 1);
    REQUIRE(h.run_until([&] { return h.sink.count(v1::Event::kMemberMuted) == 1; }));
    const auto read = [&] {
        auto state = await_result<std::optional<moderation::StateFields>>(
            h, [&](auto done) { h.broker->read_state("a", done); });
        REQUIRE(state.has_value());
        return *state;
    };
    CHECK(read().at("mute:sub-x") == "99");
    CHECK(await_result<bool>(h, [&](auto done) {
        h.broker->update_state("a", moderation::StateChange::set("locked", "1"), done);
    }));
    CHECK(await_result<bool>(h, [&](auto done) {
        h.broker->update_state("a", moderation::StateChange::erase("mute:sub-x"), done);
    }));
    const auto state = read();
    CHECK(state.count("mute:sub-x") == 0);
    CHECK(state.at("locked") == "1");
    // Nobody is told of a change made alone.
    h.run_until([] { return false; }, std::chrono::milliseconds(50));
    CHECK(h.sink.events.size() == 1);
}

TEST_CASE_TEMPLATE(
    "room state: a versioned field changes only from the version its writer saw, and a stale "
    "writer publishes nothing",
    H, Memory, Redis) {
    H h;
    h.start();
    h.watch("a");
    const auto swap = [&](std::uint64_t version, std::uint64_t expected) {
        auto event = std::make_unique<v1::Event>();
        event->set_room_id("a");
        event->mutable_meeting()->set_version(version);
        return await_result<PublishOutcome>(h, [&](auto done) {
            h.broker->publish_with_state(
                std::move(event),
                moderation::StateChange::swap(
                    "meeting",
                    moderation::versioned_value(version, "state " + std::to_string(version)),
                    expected),
                done);
        });
    };
    CHECK(swap(1, 0).status == PublishOutcome::Status::published);  // absent: version 0
    // Two writers who both read version 1: the first is stored, the second is told.
    CHECK(swap(2, 1).status == PublishOutcome::Status::published);
    CHECK(swap(2, 1).status == PublishOutcome::Status::conflict);
    CHECK(swap(9, 0).status == PublishOutcome::Status::conflict);
    CHECK(swap(3, 2).status == PublishOutcome::Status::published);
    REQUIRE(h.run_until([&] { return h.sink.count(v1::Event::kMeeting) == 3; }));
    h.run_until([] { return false; }, std::chrono::milliseconds(50));
    CHECK(h.sink.count(v1::Event::kMeeting) == 3);  // nothing of the refused ones went out
    auto state = await_result<std::optional<moderation::StateFields>>(
        h, [&](auto done) { h.broker->read_state("a", done); });
    REQUIRE(state.has_value());
    const auto stored = moderation::parse_versioned(state->at("meeting"));
    REQUIRE(stored);
    CHECK(stored->version == 3);
    CHECK(stored->payload == "state 3");
    // The sequence stays gap-free: a refused write took no number.
    CHECK(h.sink.events.back()->seq() == 3);
}

TEST_CASE_TEMPLATE("room state: a field taken once, by one taker only", H, Memory, Redis) {
    H h;
    h.start();
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    const auto take = [&](const std::string& field) {
        auto taken = await_result<std::optional<std::optional<std::string>>>(
            h, [&](auto done) { h.broker->take_state_field("room", field, done); });
        REQUIRE(taken.has_value());
        return *taken;
    };
    CHECK_FALSE(take("held:x").has_value());
    REQUIRE(await_result<bool>(h, [&](auto done) {
        h.broker->update_state("room", moderation::StateChange::set("held:x", "post"), done);
    }));
    const std::optional<std::string> first = take("held:x");
    REQUIRE(first.has_value());
    CHECK(*first == "post");
    CHECK_FALSE(take("held:x").has_value());  // gone: a second taker gets nothing
    const auto state = await_result<std::optional<moderation::StateFields>>(
        h, [&](auto done) { h.broker->read_state("room", done); });
    REQUIRE(state.has_value());
    CHECK(state->count("held:x") == 0);
}

TEST_CASE_TEMPLATE("find_duplicate: the seq a dedupe key was published under, 0 otherwise", H,
                   Memory, Redis) {
    H h;
    h.start();
    h.watch("a");
    h.post("a", "one", "key-1");
    h.post("a", "two", "key-2");
    const auto find = [&](const std::string& key) {
        return await_result<std::optional<std::uint64_t>>(
            h, [&](auto done) { h.broker->find_duplicate("a", key, done); });
    };
    CHECK(find("key-2") == std::optional<std::uint64_t>(2));
    CHECK(find("key-1") == std::optional<std::uint64_t>(1));
    CHECK(find("never") == std::optional<std::uint64_t>(0));
}

TEST_CASE_TEMPLATE("add_flag: once per person per post, counting distinct and trusted flaggers", H,
                   Memory, Redis) {
    H h;
    h.start();
    using broker::FlagCount;
    const auto flag = [&](std::uint64_t seq, const std::string& who, bool trusted) {
        return await_result<std::optional<FlagCount>>(
            h, [&](auto done) { h.broker->add_flag("a", seq, who, trusted, done); });
    };
    CHECK(flag(7, "sub-1", false) == std::optional<FlagCount>(FlagCount{1, 0}));
    CHECK(flag(7, "sub-2", true) == std::optional<FlagCount>(FlagCount{2, 1}));
    CHECK(flag(7, "sub-3", true) == std::optional<FlagCount>(FlagCount{3, 2}));
    // Flagged it already, trusted now or not: nothing changes.
    CHECK(flag(7, "sub-1", true) == std::optional<FlagCount>(FlagCount{0, 2}));
    CHECK(flag(7, "sub-2", true) == std::optional<FlagCount>(FlagCount{0, 2}));
    CHECK(flag(8, "sub-1", true) == std::optional<FlagCount>(FlagCount{1, 1}));  // another post
}

TEST_CASE_TEMPLATE("find_member: a present member's record; empty once they left", H, Memory,
                   Redis) {
    H h;
    h.start();
    h.join("room", "m1", 10);
    const auto find = [&](const std::string& id) {
        auto record = await_result<std::optional<v1::PresenceRecord>>(
            h, [&](auto done) { h.broker->find_member("room", id, done); });
        REQUIRE(record.has_value());
        return *record;
    };
    const v1::PresenceRecord present = find("m1");
    CHECK(present.subject() == "subject-m1");
    CHECK(present.member().handle() == "h-m1");
    CHECK(find("m2").subject().empty());
    h.leave("room", "m1");
    CHECK(find("m1").subject().empty());
}

TEST_CASE_TEMPLATE("server-wide: a global event reaches the sink with its state change", H, Memory,
                   Redis) {
    H h;
    h.start();
    auto event = std::make_shared<v1::Event>();
    event->mutable_member_removed()->set_subject("sub-x");
    event->mutable_member_removed()->set_global(true);
    CHECK(await_result<bool>(h, [&](auto done) {
        h.broker->publish_global(event, moderation::StateChange::set("ban:sub-x", "0"), done);
    }));
    REQUIRE(h.run_until([&] { return h.sink.global.size() == 1; }));
    CHECK(h.sink.global[0]->member_removed().subject() == "sub-x");
    auto state = await_result<std::optional<moderation::StateFields>>(
        h, [&](auto done) { h.broker->read_global_state(done); });
    REQUIRE(state.has_value());
    CHECK(state->at("ban:sub-x") == "0");
}

TEST_CASE_TEMPLATE("server-wide: a create takes a free field once and announces only then", H,
                   Memory, Redis) {
    H h;
    h.start();
    const auto open = [&](const std::string& title) {
        auto event = std::make_shared<v1::Event>();
        event->mutable_room_opened()->mutable_room()->set_id("circle-1");
        event->mutable_room_opened()->mutable_room()->set_title(title);
        return await_result<bool>(h, [&](auto done) {
            h.broker->publish_global(event, moderation::StateChange::create("room:circle-1", title),
                                     done);
        });
    };
    CHECK(open("first"));
    CHECK_FALSE(open("second"));
    REQUIRE(h.run_until([&] { return h.sink.global.size() == 1; }));
    h.run_until([&] { return h.sink.global.size() > 1; }, std::chrono::milliseconds(200));
    REQUIRE(h.sink.global.size() == 1);
    CHECK(h.sink.global[0]->room_opened().room().title() == "first");
    auto state = await_result<std::optional<moderation::StateFields>>(
        h, [&](auto done) { h.broker->read_global_state(done); });
    REQUIRE(state.has_value());
    CHECK(state->at("room:circle-1") == "first");
    // Once erased, the field is free again.
    auto closed = std::make_shared<v1::Event>();
    closed->mutable_room_closed()->set_room_id("circle-1");
    CHECK(await_result<bool>(h, [&](auto done) {
        h.broker->publish_global(closed, moderation::StateChange::erase("room:circle-1"), done);
    }));
    CHECK(open("third"));
}

TEST_CASE_TEMPLATE("moderation items: delivered to the sink, listed until resolved", H, Memory,
                   Redis) {
    H h;
    h.start();
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    v1::ModerationItem item;
    item.set_id("flag:a:1");
    item.set_kind(v1::ModerationItem::FLAG);
    item.set_room_id("a");
    h.broker->publish_moderation_item(item);
    item.set_id("flag:a:2");
    h.broker->publish_moderation_item(item);
    REQUIRE(h.run_until([&] { return h.sink.items.size() == 2; }));
    const auto open_ids = [&] {
        auto items = await_result<std::optional<std::vector<v1::ModerationItem>>>(
            h, [&](auto done) { h.broker->read_moderation_queue(done); });
        REQUIRE(items.has_value());
        std::set<std::string> ids;
        for (const auto& open : *items) ids.insert(open.id());
        return ids;
    };
    CHECK(open_ids() == std::set<std::string>{"flag:a:1", "flag:a:2"});
    v1::ModerationItem resolved;
    resolved.set_id("flag:a:1");
    resolved.set_kind(v1::ModerationItem::RESOLVED);
    h.broker->publish_moderation_item(resolved);
    REQUIRE(h.run_until([&] { return h.sink.items.size() == 3; }));
    CHECK(open_ids() == std::set<std::string>{"flag:a:2"});
}

TEST_CASE_TEMPLATE("moderation items: one claim wins, steps are taken once, resolving forgets both",
                   H, Memory, Redis) {
    H h;
    h.start();
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    const v1::ModerationItem item = crisis_alert("crisis:a:1");
    h.broker->publish_moderation_item(item);
    const auto claim_as = [&](const std::string& who) {
        v1::ModerationItem claim = update_of(item, v1::ModerationItem::CLAIMED);
        claim.set_claimed_by(who);
        claim.set_claimed_by_subject("sub-" + who);
        claim.set_claimed_at_ms(2000);
        auto outcome = await_result<std::optional<broker::ClaimOutcome>>(
            h, [&](auto done) { h.broker->claim_item(claim, done); });
        REQUIRE(outcome.has_value());
        return *outcome;
    };
    const auto escalate_to = [&](std::uint32_t step) {
        v1::ModerationItem notice = update_of(item, v1::ModerationItem::ESCALATED);
        notice.set_escalation(step);
        return step_taken(h, [&](auto done) { h.broker->escalate_item(notice, done); });
    };
    const auto stored = [&] { return only_stored(h); };

    CHECK(escalate_to(1));
    CHECK_FALSE(escalate_to(1));  // taken already
    CHECK(stored().escalation() == 1);
    const broker::ClaimOutcome first = claim_as("Maya");
    CHECK(first.kind == broker::ClaimOutcome::Kind::won);
    CHECK(first.item.claimed_by() == "Maya");
    CHECK(first.item.kind() == v1::ModerationItem::CRISIS);  // the item keeps what it is
    const broker::ClaimOutcome second = claim_as("Noor");
    CHECK(second.kind == broker::ClaimOutcome::Kind::taken);
    CHECK(second.claim.claimed_by() == "Maya");
    CHECK_FALSE(escalate_to(2));  // claimed: the ladder stops
    // Published again (one more flag), it keeps its owner and its step.
    h.broker->publish_moderation_item(item);
    const v1::ModerationItem again = stored();
    CHECK(again.claimed_by() == "Maya");
    CHECK(again.claimed_by_subject() == "sub-Maya");
    CHECK(again.escalation() == 1);
    CHECK(again.urgent());
    REQUIRE(h.run_until([&] {
        return std::any_of(h.sink.items.begin(), h.sink.items.end(), [](const auto& i) {
            return i->kind() == v1::ModerationItem::CLAIMED && i->claimed_by() == "Maya";
        });
    }));
    // Resolved, it is gone, and a new item of the same id starts afresh.
    v1::ModerationItem resolved;
    resolved.set_id(item.id());
    resolved.set_kind(v1::ModerationItem::RESOLVED);
    h.broker->publish_moderation_item(resolved);
    CHECK(claim_as("Noor").kind == broker::ClaimOutcome::Kind::gone);
    CHECK_FALSE(escalate_to(3));
    h.broker->publish_moderation_item(item);
    CHECK(stored().claimed_by().empty());
    CHECK(stored().escalation() == 0);
    CHECK(claim_as("Noor").kind == broker::ClaimOutcome::Kind::won);
}

TEST_CASE_TEMPLATE(
    "moderation items: an author is marked gone once, kept, and forgotten on resolve", H, Memory,
    Redis) {
    H h;
    h.start();
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    const v1::ModerationItem item = crisis_alert("crisis:a:2");
    const auto mark_left = [&](std::uint64_t at_ms) {
        v1::ModerationItem notice = update_of(item, v1::ModerationItem::AUTHOR_LEFT);
        notice.set_left_at_ms(at_ms);
        return step_taken(h, [&](auto done) { h.broker->mark_author_left(notice, done); });
    };
    const auto stored = [&] { return only_stored(h); };
    const auto notices = [&] {
        return std::count_if(h.sink.items.begin(), h.sink.items.end(), [](const auto& i) {
            return i->kind() == v1::ModerationItem::AUTHOR_LEFT;
        });
    };

    CHECK_FALSE(mark_left(1500));  // no such open item
    h.broker->publish_moderation_item(item);
    CHECK(mark_left(2000));
    CHECK_FALSE(mark_left(3000));  // once per alert, whoever asks
    CHECK(stored().left_at_ms() == 2000);
    CHECK(stored().kind() == v1::ModerationItem::CRISIS);
    REQUIRE(h.run_until([&] { return notices() == 1; }));
    // Published again (one more flag), it keeps the mark.
    h.broker->publish_moderation_item(item);
    CHECK(stored().left_at_ms() == 2000);
    // Resolved and raised again, it can be marked again.
    v1::ModerationItem resolved;
    resolved.set_id(item.id());
    resolved.set_kind(v1::ModerationItem::RESOLVED);
    h.broker->publish_moderation_item(resolved);
    h.broker->publish_moderation_item(item);
    CHECK(stored().left_at_ms() == 0);
    CHECK(mark_left(4000));
    REQUIRE(h.run_until([&] { return notices() == 2; }));
}

TEST_CASE_TEMPLATE(
    "moderation items: a webhook is held by one sender at a time until its hold ends, never "
    "again once sent, and not for a claimed or closed item",
    H, Memory, Redis) {
    H h;
    h.start();
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    const v1::ModerationItem item = crisis_alert("crisis:a:3");
    const auto hold = [&](const std::string& id, std::uint64_t now_ms, std::uint64_t until_ms) {
        return step_taken(h,
                          [&](auto done) { h.broker->hold_webhook(id, now_ms, until_ms, done); });
    };

    CHECK_FALSE(hold(item.id(), 1000, 6000));  // no such open item
    h.broker->publish_moderation_item(item);
    CHECK(hold(item.id(), 1000, 6000));
    CHECK_FALSE(hold(item.id(), 5999, 11000));  // still held by the first sender
    CHECK(hold(item.id(), 6001, 11000));        // its hold ran out: the next one sends
    h.broker->mark_webhook_sent(item.id());
    CHECK_FALSE(hold(item.id(), 20000, 25000));  // taken: never again
    // Resolved and raised again, it is a new alert with its own webhook.
    v1::ModerationItem resolved;
    resolved.set_id(item.id());
    resolved.set_kind(v1::ModerationItem::RESOLVED);
    h.broker->publish_moderation_item(resolved);
    CHECK_FALSE(hold(item.id(), 30000, 35000));
    h.broker->publish_moderation_item(item);
    CHECK(hold(item.id(), 30000, 35000));
    // Claimed: a moderator has it, the outside alert is not sent.
    v1::ModerationItem claim = update_of(item, v1::ModerationItem::CLAIMED);
    claim.set_claimed_by("Maya");
    claim.set_claimed_by_subject("maya");
    claim.set_claimed_at_ms(36000);
    REQUIRE(await_result<std::optional<broker::ClaimOutcome>>(h, [&](auto done) {
                h.broker->claim_item(claim, done);
            }).has_value());
    CHECK_FALSE(hold(item.id(), 40000, 45000));
}

TEST_CASE_TEMPLATE(
    "follow-up waits: each due wait is taken by one caller, a later departure replaces the "
    "first, and a wait ended where it began is forgotten",
    H, Memory, Redis) {
    H h;
    h.start();
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    const auto take = [&](std::uint64_t now_ms) {
        auto taken = await_result<std::optional<std::vector<moderation::Departure>>>(
            h, [&](auto done) { h.broker->take_departures(now_ms, 10, done); });
        REQUIRE(taken.has_value());
        return *taken;
    };
    // A subject may hold any character, the separator included.
    const moderation::Departure robin{"lobby", "guest:7:robin", 1000};
    const moderation::Departure sam{"lobby-2", "sam", 1500};
    h.broker->record_departure(robin, 18000);
    h.broker->record_departure(sam, 18500);
    CHECK(take(17999).empty());
    const std::vector<moderation::Departure> due = take(18000);
    REQUIRE(due.size() == 1);
    CHECK(due[0].room_id == "lobby");
    CHECK(due[0].subject == "guest:7:robin");
    CHECK(due[0].left_at_ms == 1000);
    CHECK(take(18000).empty());  // taken once
    // Sam came back and left again: the second departure replaces the first, and forgetting the
    // first leaves the second.
    const moderation::Departure sam_again{"lobby-2", "sam", 4000};
    h.broker->record_departure(sam_again, 21000);
    h.broker->forget_departure(sam);
    CHECK(take(20000).empty());
    const std::vector<moderation::Departure> later = take(21000);
    REQUIRE(later.size() == 1);
    CHECK(later[0].left_at_ms == 4000);
    // Ended where it began: nobody takes it over.
    h.broker->record_departure(robin, 30000);
    h.broker->forget_departure(robin);
    CHECK(take(40000).empty());
}

TEST_CASE_TEMPLATE("audit: newest first, by room, paged with before_id", H, Memory, Redis) {
    H h;
    h.start();
    for (int i = 1; i <= 5; ++i) {
        v1::AuditEntry entry;
        entry.set_time_ms(static_cast<std::uint64_t>(i));
        entry.set_action("action-" + std::to_string(i));
        entry.set_room_id(i % 2 == 0 ? "even" : "odd");
        h.broker->append_audit(entry);
    }
    const auto page = [&](const std::string& room, const std::string& before, std::uint32_t n) {
        auto result = await_result<std::optional<v1::AuditPage>>(
            h, [&](auto done) { h.broker->read_audit(room, before, n, done); });
        REQUIRE(result.has_value());
        return *result;
    };
    // Appends are asynchronous with Redis: wait until all five are there.
    REQUIRE(h.run_until([&] { return page("", "", 10).entries_size() == 5; }));
    const v1::AuditPage first = page("", "", 2);
    REQUIRE(first.entries_size() == 2);
    CHECK(first.has_more());
    CHECK(first.entries(0).action() == "action-5");
    CHECK(first.entries(1).action() == "action-4");
    const v1::AuditPage rest = page("", first.entries(1).id(), 10);
    REQUIRE(rest.entries_size() == 3);
    CHECK(rest.entries(0).action() == "action-3");
    CHECK_FALSE(rest.has_more());
    const v1::AuditPage even = page("even", "", 10);
    REQUIRE(even.entries_size() == 2);
    CHECK(even.entries(0).action() == "action-4");
    CHECK(even.entries(1).action() == "action-2");
}

TEST_CASE_TEMPLATE("shutdown: calls back once, after which the broker may go", H, Memory, Redis) {
    H h;
    h.start();
    h.join("room", "m1", 10);
    bool done = false;
    h.broker->shutdown([&] { done = true; });
    REQUIRE(h.run_until([&] { return done; }));
}

TEST_CASE("redis: after unsubscribe a room's events no longer reach the sink") {
    Redis watcher;
    Redis publisher;
    watch_and_publish_first(watcher, publisher);
    watcher.broker->unsubscribe("a");
    watcher.run_until([] { return false; }, std::chrono::milliseconds(100));
    publisher.post("a", "2");
    watcher.run_until([] { return false; }, std::chrono::milliseconds(200));
    CHECK(watcher.sink.posted_seqs() == std::vector<std::uint64_t>{1});
    CHECK_FALSE(watcher.broker->delivered_seq("a").has_value());
}
