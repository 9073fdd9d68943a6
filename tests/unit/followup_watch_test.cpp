// Someone who leaves right after a crisis post: the departures matched to the alerts their
// posts raised, and the grace period before anyone is told.
#include <doctest/doctest.h>

#include "moderation/followup_watch.hpp"
#include "moderation/open_queue.hpp"

using haven::moderation::Departure;
using haven::moderation::FollowupWatch;
using haven::moderation::OpenQueue;
namespace v1 = haven::v1;

namespace {

v1::ModerationItem crisis(const std::string& id, const std::string& room, const std::string& author,
                          std::uint64_t time_ms) {
    v1::ModerationItem item;
    item.set_id(id);
    item.set_kind(v1::ModerationItem::CRISIS);
    item.set_urgent(true);
    item.set_room_id(room);
    item.set_time_ms(time_ms);
    item.mutable_post()->set_author_subject(author);
    return item;
}

v1::ModerationItem about(const std::string& id, v1::ModerationItem::Kind kind) {
    v1::ModerationItem item;
    item.set_id(id);
    item.set_kind(kind);
    return item;
}

}  // namespace

TEST_CASE("followup: a departure matches the open crisis alerts of that person in that room") {
    OpenQueue queue;
    queue.apply(crisis("crisis:lobby:1", "lobby", "ana", 1'000));
    queue.apply(crisis("crisis:lobby:2", "lobby", "ana", 5'000));
    queue.apply(crisis("crisis:lobby:3", "lobby", "ben", 5'000));
    queue.apply(crisis("crisis:quiet:1", "quiet", "ana", 5'000));
    v1::ModerationItem flag = crisis("flag:lobby:4", "lobby", "ana", 5'000);
    flag.set_kind(v1::ModerationItem::FLAG);  // a flag's post author did not raise an alert
    queue.apply(flag);

    std::vector<OpenQueue::CrisisByAuthor> raised = queue.crisis_by("lobby", "ana", 0);
    REQUIRE(raised.size() == 2);
    // Only alerts raised inside the follow-up window count.
    raised = queue.crisis_by("lobby", "ana", 2'000);
    REQUIRE(raised.size() == 1);
    CHECK(raised[0].id == "crisis:lobby:2");
    CHECK(raised[0].claimed_by.empty());

    // A claim names the owner, who is the one to be told.
    v1::ModerationItem claim = about("crisis:lobby:2", v1::ModerationItem::CLAIMED);
    claim.set_claimed_by("Maya");
    claim.set_claimed_by_subject("maya-sub");
    queue.apply(claim);
    raised = queue.crisis_by("lobby", "ana", 2'000);
    REQUIRE(raised.size() == 1);
    CHECK(raised[0].claimed_by == "Maya");
    CHECK(raised[0].claimed_by_subject == "maya-sub");

    // Once reported gone the alert is not matched again (one notice per alert) ...
    queue.apply(about("crisis:lobby:2", v1::ModerationItem::AUTHOR_LEFT));
    CHECK(queue.crisis_by("lobby", "ana", 2'000).empty());
    // ... nor once it is closed.
    queue.apply(about("crisis:lobby:1", v1::ModerationItem::RESOLVED));
    CHECK(queue.crisis_by("lobby", "ana", 0).empty());
    CHECK(queue.crisis_by("lobby", "ben", 0).size() == 1);
    CHECK(queue.crisis_by("quiet", "ana", 0).size() == 1);

    // The stored queue read at start says the same (the author_left mark is stored too).
    v1::ModerationItem stored = crisis("crisis:lobby:9", "lobby", "cy", 1'000);
    stored.set_left_at_ms(2'000);
    queue.load({stored, crisis("crisis:lobby:8", "lobby", "cy", 1'000)});
    raised = queue.crisis_by("lobby", "cy", 0);
    REQUIRE(raised.size() == 1);
    CHECK(raised[0].id == "crisis:lobby:8");
    CHECK(queue.crisis_by("lobby", "ana", 0).empty());
}

TEST_CASE("followup: a wait ends after the grace period, and a second departure restarts it") {
    FollowupWatch watch(60'000);
    watch.departed(Departure{"lobby", "ana", 10'000});
    watch.departed(Departure{"lobby", "ben", 20'000});
    watch.departed(Departure{"quiet", "ana", 20'000});  // another room: a wait of its own
    CHECK(watch.size() == 3);
    CHECK(watch.take_due(69'999).empty());
    std::vector<Departure> due = watch.take_due(70'000);
    REQUIRE(due.size() == 1);
    CHECK(due[0].room_id == "lobby");
    CHECK(due[0].subject == "ana");
    CHECK(due[0].left_at_ms == 10'000);
    CHECK(watch.take_due(70'000).empty());  // taken once

    // Ben came back and left again at 50 s: his grace counts from then.
    watch.departed(Departure{"lobby", "ben", 50'000});
    CHECK(watch.size() == 2);
    CHECK(watch.take_due(80'000).size() == 1);  // Ana in the other room
    CHECK(watch.take_due(109'999).empty());
    CHECK(watch.take_due(110'000).size() == 1);
    CHECK(watch.size() == 0);
}
