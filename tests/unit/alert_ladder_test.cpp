// The escalation ladder's timing and its webhook body, and the open queue that feeds it.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "moderation/open_queue.hpp"
#include "rooms/alert_ladder.hpp"

using haven::moderation::OpenQueue;
using haven::rooms::due_step;
using haven::rooms::LadderTiming;

TEST_CASE(
    "ladder: a step per interval after the claim timeout, up to the webhook when there is one") {
    const LadderTiming with_webhook{60'000, 30'000, true};
    CHECK(due_step(with_webhook, 59'999, 0) == 0);
    CHECK(due_step(with_webhook, 60'000, 0) == 1);
    CHECK(due_step(with_webhook, 89'999, 0) == 1);
    CHECK(due_step(with_webhook, 90'000, 0) == 2);
    CHECK(due_step(with_webhook, 120'000, 0) == 3);
    CHECK(due_step(with_webhook, 10'000'000, 0) == 3);
    CHECK(due_step(with_webhook, 0, 5'000) == 0);  // a clock behind the item's time
    const LadderTiming without{60'000, 30'000, false};
    CHECK(due_step(without, 10'000'000, 0) == 2);
}

TEST_CASE("ladder: a webhook's sender holds it for every attempt, the pauses and a margin") {
    using haven::rooms::webhook_hold_ms;
    using haven::rooms::webhook_pause_ms;
    CHECK(webhook_pause_ms(1) == 1'000);
    CHECK(webhook_pause_ms(2) == 2'000);
    CHECK(webhook_pause_ms(4) == 8'000);
    CHECK(webhook_pause_ms(7) == 60'000);  // doubling stops at a minute
    CHECK(webhook_pause_ms(19) == 60'000);
    CHECK(webhook_hold_ms(1, 1'000) == 3'000);
    CHECK(webhook_hold_ms(2, 1'000) == 5'000);
    // The defaults: 5 attempts of 5 s, pauses of 1, 2, 4 and 8 s.
    CHECK(webhook_hold_ms(5, 5'000) == 42'000);
    // The most the config allows stays bounded: 20 attempts of 60 s.
    CHECK(webhook_hold_ms(20, 60'000) < 45ULL * 60 * 1000);
}

TEST_CASE("ladder: the webhook body names the item and the wait, nothing anyone wrote") {
    const OpenQueue::Waiting waiting{"crisis:lobby:7", "lobby", 1'000, 2};
    const std::string body = haven::rooms::webhook_body(waiting, 3, "inst-1", 181'000);
    const boost::json::value json = boost::json::parse(body);
    CHECK(json.at("item_id").as_string() == "crisis:lobby:7");
    CHECK(json.at("room_id").as_string() == "lobby");
    CHECK(json.at("waited_seconds").as_int64() == 180);
    CHECK(json.at("step").as_int64() == 3);
    CHECK(json.at("instance").as_string() == "inst-1");
    CHECK(json.as_object().size() == 7);
}

TEST_CASE("open queue: unclaimed urgent items, their steps, and claims taking them out") {
    OpenQueue queue;
    haven::v1::ModerationItem urgent;
    urgent.set_id("crisis:a:1");
    urgent.set_kind(haven::v1::ModerationItem::CRISIS);
    urgent.set_room_id("a");
    urgent.set_urgent(true);
    urgent.set_time_ms(100);
    haven::v1::ModerationItem concern = urgent;
    concern.set_id("crisis:a:2");
    concern.set_urgent(false);  // a concern: seen, not escalated
    queue.apply(urgent);
    queue.apply(concern);
    REQUIRE(queue.on_the_ladder().size() == 1);
    CHECK(queue.on_the_ladder().front().id == "crisis:a:1");
    CHECK(queue.summary().unclaimed_urgent == 1);
    haven::v1::ModerationItem step;
    step.set_id("crisis:a:1");
    step.set_kind(haven::v1::ModerationItem::ESCALATED);
    step.set_escalation(2);
    queue.apply(step);
    CHECK(queue.on_the_ladder().front().escalation == 2);
    haven::v1::ModerationItem claimed;
    claimed.set_id("crisis:a:1");
    claimed.set_kind(haven::v1::ModerationItem::CLAIMED);
    claimed.set_claimed_by("Maya");
    queue.apply(claimed);
    CHECK(queue.on_the_ladder().empty());
    CHECK(queue.summary().urgent == 1);
    CHECK(queue.summary().unclaimed_urgent == 0);
    // A step or claim for an item closed meanwhile changes nothing.
    step.set_id("crisis:a:9");
    queue.apply(step);
    CHECK(queue.size() == 2);
}

TEST_CASE("open queue: held posts climb the ladder too, and come due by where their author is") {
    OpenQueue queue;
    haven::v1::ModerationItem held;
    held.set_id("held:h1");
    held.set_kind(haven::v1::ModerationItem::HELD_POST);
    held.set_room_id("circle");
    held.set_hold_id("h1");
    held.set_time_ms(1'000);
    held.mutable_post()->mutable_author()->set_member_id("inst-a-1000000000001");
    haven::v1::ModerationItem elsewhere = held;
    elsewhere.set_id("held:h2");
    elsewhere.set_hold_id("h2");
    elsewhere.mutable_post()->mutable_author()->set_member_id("inst-b-1000000000001");
    queue.apply(held);
    queue.apply(elsewhere);

    // Not urgent, yet waiting for an answer: on the ladder (without the webhook).
    const std::vector<OpenQueue::Waiting> ladder = queue.on_the_ladder();
    REQUIRE(ladder.size() == 2);
    CHECK_FALSE(ladder[0].urgent);
    CHECK(queue.summary().held == 2);
    CHECK(queue.summary().unclaimed_urgent == 0);

    // On inst-a: its own author's post comes due first, the other one later.
    CHECK(queue.overdue_held(1'000, 0, "inst-a-").empty());
    std::vector<OpenQueue::Overdue> due = queue.overdue_held(1'001, 0, "inst-a-");
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == "held:h1");
    CHECK(due[0].hold_id == "h1");
    CHECK(due[0].room_id == "circle");
    CHECK(queue.overdue_held(1'001, 1'001, "inst-a-").size() == 2);
    // Answered: neither on the ladder nor due.
    haven::v1::ModerationItem resolved;
    resolved.set_id("held:h1");
    resolved.set_kind(haven::v1::ModerationItem::RESOLVED);
    queue.apply(resolved);
    CHECK(queue.overdue_held(1'001, 1'001, "inst-a-").size() == 1);
    CHECK(queue.on_the_ladder().size() == 1);
}
