#include <doctest/doctest.h>

#include <vector>

#include "broker/memory_broker.hpp"
#include "support/recording_sink.hpp"

using namespace haven;
using broker::PublishOutcome;

namespace {

using test::RecordingSink;

struct Fixture {
    config::HistoryConfig retention;
    RecordingSink sink;
    std::uint64_t now_ms = 1'000'000;
    broker::MemoryBroker broker{retention, sink, [this] { return now_ms; }};

    PublishOutcome post(const std::string& room, const std::string& text,
                        const std::string& key = "") {
        auto event = std::make_unique<v1::Event>();
        event->set_room_id(room);
        event->mutable_posted()->set_text(text);
        PublishOutcome result;
        broker.publish(std::move(event), key, {},
                       [&](PublishOutcome outcome) { result = outcome; });
        return result;
    }

    broker::HistorySlice read(broker::HistoryQuery query) {
        broker::HistorySlice result;
        broker.read_history(std::move(query), [&](broker::HistorySlice s) { result = s; });
        return result;
    }
};

std::vector<std::uint64_t> seqs(const broker::HistorySlice& slice) {
    std::vector<std::uint64_t> out;
    for (const auto& event : slice.events) out.push_back(event->seq());
    return out;
}

}  // namespace

TEST_CASE("sequence numbers are per room and increase by exactly one") {
    Fixture f;
    CHECK(f.post("a", "1").seq == 1);
    CHECK(f.post("a", "2").seq == 2);
    CHECK(f.post("b", "1").seq == 1);
    CHECK(f.post("a", "3").seq == 3);
    REQUIRE(f.sink.events.size() == 4);
    CHECK(f.sink.events[3]->seq() == 3);
    CHECK(f.sink.events[3]->time_ms() == f.now_ms);
}

TEST_CASE("a retried dedupe key is acknowledged with the original seq and not delivered") {
    Fixture f;
    CHECK(f.post("a", "x", "alice\nm1").status == PublishOutcome::Status::published);
    f.post("a", "y", "alice\nm2");
    const PublishOutcome retry = f.post("a", "x", "alice\nm1");
    CHECK(retry.status == PublishOutcome::Status::duplicate);
    CHECK(retry.seq == 1);
    CHECK(f.sink.events.size() == 2);
    CHECK(f.post("a", "z").seq == 3);  // no key: never deduplicated
    CHECK(f.post("a", "z").seq == 4);
}

TEST_CASE("the dedupe window forgets the oldest keys first") {
    Fixture f;
    f.retention.dedupe_window = 2;
    f.post("a", "1", "k1");
    f.post("a", "2", "k2");
    f.post("a", "3", "k3");
    CHECK(f.post("a", "again", "k1").status == PublishOutcome::Status::published);
    CHECK(f.post("a", "again", "k3").status == PublishOutcome::Status::duplicate);
}

TEST_CASE("history ring keeps the newest max_events") {
    Fixture f;
    f.retention.max_events = 5;
    for (int i = 0; i < 8; ++i) f.post("a", std::to_string(i));
    broker::HistoryQuery query;
    query.room_id = "a";
    query.limit = 100;
    const auto slice = f.read(query);
    CHECK(seqs(slice) == std::vector<std::uint64_t>{4, 5, 6, 7, 8});
    CHECK(slice.oldest_seq == 4);
    CHECK(slice.last_seq == 8);
}

TEST_CASE("history drops events older than max_age") {
    Fixture f;
    f.retention.max_age_seconds = 60;
    f.post("a", "old");
    f.now_ms += 61'000;
    f.post("a", "new");
    broker::HistoryQuery query;
    query.room_id = "a";
    CHECK(seqs(f.read(query)) == std::vector<std::uint64_t>{2});
}

TEST_CASE("recovery after since_seq is exact, or reported incomplete") {
    Fixture f;
    f.retention.max_events = 5;
    for (int i = 0; i < 8; ++i) f.post("a", std::to_string(i));
    broker::HistoryQuery query;
    query.room_id = "a";
    query.limit = 100;
    query.newest = false;

    query.after_seq = 5;
    auto slice = f.read(query);
    CHECK(seqs(slice) == std::vector<std::uint64_t>{6, 7, 8});
    CHECK(slice.complete);

    query.after_seq = 3;  // 4 is the oldest retained: nothing lost
    CHECK(f.read(query).complete);

    query.after_seq = 2;  // 3 was trimmed
    slice = f.read(query);
    CHECK_FALSE(slice.complete);
    CHECK(seqs(slice) == std::vector<std::uint64_t>{4, 5, 6, 7, 8});

    query.after_seq = 8;  // up to date
    slice = f.read(query);
    CHECK(slice.complete);
    CHECK(slice.events.empty());

    query.after_seq = 50;  // from before a restart: this room never got there
    CHECK_FALSE(f.read(query).complete);
}

TEST_CASE("history pages backwards and forwards") {
    Fixture f;
    for (int i = 0; i < 10; ++i) f.post("a", std::to_string(i));
    broker::HistoryQuery query;
    query.room_id = "a";
    query.limit = 3;

    auto page = f.read(query);  // newest page
    CHECK(seqs(page) == std::vector<std::uint64_t>{8, 9, 10});
    CHECK(page.has_more);

    query.before_seq = 8;
    page = f.read(query);
    CHECK(seqs(page) == std::vector<std::uint64_t>{5, 6, 7});
    CHECK(page.has_more);

    query.before_seq = 3;
    page = f.read(query);
    CHECK(seqs(page) == std::vector<std::uint64_t>{1, 2});
    CHECK_FALSE(page.has_more);

    query.before_seq = 0;
    query.after_seq = 4;
    query.newest = false;
    page = f.read(query);
    CHECK(seqs(page) == std::vector<std::uint64_t>{5, 6, 7});
    CHECK(page.has_more);

    query.after_seq = 8;
    page = f.read(query);
    CHECK(seqs(page) == std::vector<std::uint64_t>{9, 10});
    CHECK_FALSE(page.has_more);
}

TEST_CASE("an empty room reads as empty and complete") {
    Fixture f;
    broker::HistoryQuery query;
    query.room_id = "quiet";
    const auto slice = f.read(query);
    CHECK(slice.ok);
    CHECK(slice.events.empty());
    CHECK(slice.complete);
    CHECK(slice.last_seq == 0);
}

TEST_CASE("ephemeral events reach the sink without a sequence number") {
    Fixture f;
    auto event = std::make_shared<v1::Event>();
    event->set_room_id("a");
    event->mutable_typing()->set_active(true);
    f.broker.publish_ephemeral(event);
    REQUIRE(f.sink.events.size() == 1);
    CHECK(f.sink.events[0]->seq() == 0);
    CHECK(f.post("a", "first").seq == 1);
}
