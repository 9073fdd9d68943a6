// The Broker's operations as coroutines (broker/async_broker), against both brokers: each
// awaitable gives the outcome its callback operation gives, as a broker::Result, and resumes
// on the loop that awaited it. A Redis broker that cannot reach its server answers every one
// with `unavailable`.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>

#include "broker/async_broker.hpp"
#include "broker_harness.hpp"

using namespace haven;
using namespace haven::test::broker_harness;
using broker::Failure;

namespace {

// Runs `flow` (a coroutine on h.io) to its end.
template <class H, class Flow>
void run_flow(H& h, Flow flow) {
    bool finished = false;
    boost::asio::co_spawn(h.io, std::move(flow), [&](const std::exception_ptr& error) {
        finished = true;
        if (error) std::rethrow_exception(error);
    });
    REQUIRE(h.run_until([&] { return finished; }));
}

std::unique_ptr<v1::Event> posted(const std::string& room, const std::string& text) {
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(room);
    event->mutable_posted()->set_text(text);
    return event;
}

v1::PresenceRecord present(const std::string& id) {
    v1::PresenceRecord record;
    record.mutable_member()->set_member_id(id);
    record.set_subject("subject-" + id);
    return record;
}

}  // namespace

TEST_CASE_TEMPLATE("awaitable broker: posts, duplicates, state and flags", H, Memory, Redis) {
    H h;
    h.start();
    broker::AsyncBroker async(*h.broker);
    run_flow(h, [&]() -> core::Awaitable<void> {
        auto first = posted("a", "hello");
        std::string key = "author\nmsg-1";
        broker::AuthorLimit no_limit;
        broker::Result<broker::Published> published =
            co_await async.publish(std::move(first), std::move(key), std::move(no_limit));
        REQUIRE(published.has_value());
        CHECK(published->seq == 1);
        CHECK_FALSE(published->duplicate);

        auto again = posted("a", "hello");
        std::string same_key = "author\nmsg-1";
        broker::AuthorLimit none;
        broker::Result<broker::Published> duplicate =
            co_await async.publish(std::move(again), std::move(same_key), std::move(none));
        REQUIRE(duplicate.has_value());
        CHECK(duplicate->duplicate);
        CHECK(duplicate->seq == 1);

        const std::string known_key = "author\nmsg-1";
        const std::string unknown_key = "author\nnever";
        broker::Result<std::uint64_t> found = co_await async.find_duplicate("a", known_key);
        REQUIRE(found.has_value());
        CHECK(*found == 1);
        broker::Result<std::uint64_t> missing = co_await async.find_duplicate("a", unknown_key);
        REQUIRE(missing.has_value());
        CHECK(*missing == 0);

        auto muted = std::make_unique<v1::Event>();
        muted->set_room_id("a");
        muted->mutable_member_muted()->set_subject("s");
        moderation::StateChange mute = moderation::StateChange::set("mute:s", "0");
        broker::Result<broker::Published> announced =
            co_await async.publish_with_state(std::move(muted), std::move(mute));
        REQUIRE(announced.has_value());
        CHECK(announced->seq == 2);
        moderation::StateChange held = moderation::StateChange::set("held:x", "post");
        broker::Result<void> stored = co_await async.update_state("a", std::move(held));
        CHECK(stored.has_value());
        broker::Result<moderation::StateFields> state = co_await async.read_state("a");
        REQUIRE(state.has_value());
        CHECK(state->count("mute:s") == 1);
        CHECK(state->at("held:x") == "post");

        broker::Result<broker::FlagCount> flags = co_await async.add_flag("a", 1, "flagger", true);
        REQUIRE(flags.has_value());
        CHECK(flags->flaggers == 1);
        CHECK(flags->trusted == 1);
        broker::Result<broker::FlagCount> repeated =
            co_await async.add_flag("a", 1, "flagger", true);
        REQUIRE(repeated.has_value());
        CHECK(repeated->flaggers == 0);

        broker::Result<std::optional<v1::Event>> event = co_await async.read_event("a", 1);
        REQUIRE(event.has_value());
        REQUIRE(event->has_value());
        CHECK((*event)->posted().text() == "hello");
        broker::Result<std::optional<v1::Event>> none_there = co_await async.read_event("a", 9);
        REQUIRE(none_there.has_value());
        CHECK_FALSE(none_there->has_value());
        broker::HistoryQuery query;
        query.room_id = "a";
        broker::Result<broker::HistorySlice> slice = co_await async.read_history(query);
        REQUIRE(slice.has_value());
        CHECK(slice->last_seq == 2);
    });
}

TEST_CASE_TEMPLATE("awaitable broker: presence, with its refusals as failures", H, Memory, Redis) {
    H h;
    h.start();
    broker::AsyncBroker async(*h.broker);
    run_flow(h, [&]() -> core::Awaitable<void> {
        const v1::PresenceRecord one = present("m1");
        const v1::PresenceRecord two = present("m2");
        broker::Result<broker::JoinOutcome> joined = co_await async.add_member("p", one, 1);
        REQUIRE(joined.has_value());
        CHECK(joined->members.size() == 1);
        broker::Result<broker::JoinOutcome> again = co_await async.add_member("p", one, 5);
        REQUIRE_FALSE(again.has_value());
        CHECK(again.error().reason == Failure::Reason::already_member);
        broker::Result<broker::JoinOutcome> full = co_await async.add_member("p", two, 1);
        REQUIRE_FALSE(full.has_value());
        CHECK(full.error().reason == Failure::Reason::room_full);

        broker::Result<v1::PresenceRecord> found = co_await async.find_member("p", "m1");
        REQUIRE(found.has_value());
        CHECK(found->subject() == "subject-m1");
        broker::Result<v1::PresenceRecord> nobody = co_await async.find_member("p", "zz");
        REQUIRE(nobody.has_value());
        CHECK(nobody->subject().empty());
        broker::Result<broker::PresenceSnapshot> snapshot = co_await async.read_presence("p");
        REQUIRE(snapshot.has_value());
        CHECK(snapshot->members.size() == 1);
        CHECK(snapshot->version == joined->presence_version);
        broker::Result<std::uint32_t> remaining = co_await async.remove_member("p", one.member());
        REQUIRE(remaining.has_value());
        CHECK(*remaining == 0);
    });
}

TEST_CASE_TEMPLATE("awaitable broker: the server-wide state", H, Memory, Redis) {
    H h;
    h.start();
    REQUIRE(h.run_until([&] { return h.broker->healthy(); }));
    broker::AsyncBroker async(*h.broker);
    h.broker->record_role("sub-op", broker::KnownRole{v1::ROLE_OPERATOR, {}});
    v1::AuditEntry entry;
    entry.set_action("mute");
    entry.set_room_id("r");
    h.broker->append_audit(entry);
    v1::ModerationItem item;
    item.set_id("flag:r:1");
    item.set_kind(v1::ModerationItem::FLAG);
    item.set_room_id("r");
    h.broker->publish_moderation_item(item);
    run_flow(h, [&]() -> core::Awaitable<void> {
        auto ban = std::make_shared<v1::Event>();
        ban->mutable_member_removed()->set_subject("banned-one");
        ban->mutable_member_removed()->set_banned(true);
        broker::EventPtr event = ban;
        moderation::StateChange change = moderation::StateChange::set("ban:banned-one", "0");
        broker::Result<void> published =
            co_await async.publish_global(std::move(event), std::move(change));
        CHECK(published.has_value());
        broker::Result<moderation::StateFields> global = co_await async.read_global_state();
        REQUIRE(global.has_value());
        CHECK(global->count("ban:banned-one") == 1);

        const std::string operator_subject = "sub-op";
        const std::string stranger = "sub-never-seen";
        broker::Result<std::optional<broker::KnownRole>> known =
            co_await async.find_role(operator_subject);
        REQUIRE(known.has_value());
        REQUIRE(known->has_value());
        CHECK((*known)->role == v1::ROLE_OPERATOR);
        broker::Result<std::optional<broker::KnownRole>> unknown =
            co_await async.find_role(stranger);
        REQUIRE(unknown.has_value());
        CHECK_FALSE(unknown->has_value());

        broker::Result<v1::AuditPage> page = co_await async.read_audit("r", "", 10);
        REQUIRE(page.has_value());
        REQUIRE(page->entries_size() == 1);
        CHECK(page->entries(0).action() == "mute");
        broker::Result<std::vector<v1::ModerationItem>> queue =
            co_await async.read_moderation_queue();
        REQUIRE(queue.has_value());
        REQUIRE(queue->size() == 1);
        CHECK(queue->front().id() == "flag:r:1");
    });
}

TEST_CASE("awaitable broker: a Redis broker without its server answers unavailable") {
    // A port nothing listens on (the shared server's, once it is known to be another one).
    LoopFixture loop;
    core::Metrics metrics{1};
    broker::redis::RedisBrokerOptions options;
    options.endpoint = *broker::redis::parse_redis_url("redis://127.0.0.1:1");
    options.key_prefix = unique_prefix();
    options.instance_id = "unreachable";
    broker::redis::RedisBroker redis(loop.io, options, loop.sink, metrics.shard(0));
    redis.start();
    broker::AsyncBroker async(redis);
    bool finished = false;
    boost::asio::co_spawn(
        loop.io,
        [&]() -> core::Awaitable<void> {
            broker::Result<moderation::StateFields> state = co_await async.read_state("a");
            REQUIRE_FALSE(state.has_value());
            CHECK(state.error().reason == Failure::Reason::unavailable);
            auto event = posted("a", "lost");
            std::string key = "k";
            broker::AuthorLimit none;
            broker::Result<broker::Published> published =
                co_await async.publish(std::move(event), std::move(key), std::move(none));
            REQUIRE_FALSE(published.has_value());
            CHECK(published.error().reason == Failure::Reason::unavailable);
            const v1::PresenceRecord one = present("m1");
            broker::Result<broker::JoinOutcome> joined = co_await async.add_member("a", one, 5);
            REQUIRE_FALSE(joined.has_value());
            CHECK(joined.error().reason == Failure::Reason::unavailable);
            broker::HistoryQuery query;
            query.room_id = "a";
            broker::Result<broker::HistorySlice> slice = co_await async.read_history(query);
            CHECK_FALSE(slice.has_value());
        },
        [&](const std::exception_ptr& error) {
            finished = true;
            if (error) std::rethrow_exception(error);
        });
    REQUIRE(loop.run_until([&] { return finished; }));
    redis.stop();
}
