// Crisis alerts that reach a human, across instances on a real Redis: an alert raised on one
// instance reaches moderators on the others; a moderator who was away finds it again; two
// moderators claiming at once on two instances, 200 times, leave exactly one owner each time;
// an alert nobody claims climbs the escalation ladder, once, to a local webhook receiver; and
// the on-duty roster that tells the author honestly whether a moderator was let know.
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include <boost/json.hpp>

#include "auth/hs256.hpp"
#include "integration/crisis_support.hpp"
#include "support/http_receiver.hpp"

namespace haven::test {
namespace {

// The author's crisis panel for one post: what it says about the human side.
v1::Alert panel_for(Client& author, const std::string& text) {
    REQUIRE(author.post("lobby", text).seq() > 0);
    const v1::ServerMessage alert = author.expect(
        [](const v1::ServerMessage& m) {
            return m.has_alert() && m.alert().kind() == v1::Alert::CRISIS_RESOURCES;
        },
        "the crisis panel");
    return alert.alert();
}

}  // namespace

TEST_CASE(
    "crisis alerts on three instances: raised on A, seen on B and C, two claims at once on B "
    "and C leave exactly one owner, 200 times") {
    TwoInstances cluster("alert-claims", crisis_settings());
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    ServerProcess c(
        ServerOptions{.toml = cluster_toml(cluster.redis, cluster.prefix, crisis_settings())});
    require_started(c);
    Client author = guest_in(a, Encoding::binary, "lobby", "Robin");
    Client maya = moderator(b, kModeratorB);
    Client noor = moderator(c, kModeratorC);

    int maya_won = 0;
    int noor_won = 0;
    for (int round = 0; round < 200; ++round) {
        CAPTURE(round);
        const std::string id = raise_alert(author, round);
        // Both hear of it, each on their own instance.
        const v1::ServerMessage seen_b = maya.expect(item(id, v1::ModerationItem::CRISIS), "on B");
        CHECK(seen_b.moderation_item().urgent());
        CHECK(seen_b.moderation_item().severity() == "urgent");
        CHECK(seen_b.moderation_item().claimed_by().empty());
        noor.expect(item(id, v1::ModerationItem::CRISIS), "on C");
        // Both claim at once.
        const std::uint64_t from_maya = maya.send(claim(id));
        const std::uint64_t from_noor = noor.send(claim(id));
        const v1::ServerMessage answer_b = maya.reply(from_maya);
        const v1::ServerMessage answer_c = noor.reply(from_noor);
        const bool b_won = answer_b.has_ack();
        const bool c_won = answer_c.has_ack();
        REQUIRE(b_won != c_won);  // exactly one
        const v1::ServerMessage& lost = b_won ? answer_c : answer_b;
        REQUIRE(lost.has_error());
        CHECK(lost.error().code() == v1::ALREADY_CLAIMED);
        CHECK(lost.error().message().find(b_won ? "Maya" : "Noor") != std::string::npos);
        // Everyone sees who owns it.
        const std::string owner = b_won ? "Maya" : "Noor";
        for (Client* who : {&maya, &noor}) {
            const v1::ServerMessage claimed =
                who->expect(item(id, v1::ModerationItem::CLAIMED), "claimed");
            CHECK(claimed.moderation_item().claimed_by() == owner);
        }
        // The loser may not close it; the owner does.
        Client& winner = b_won ? maya : noor;
        Client& loser = b_won ? noor : maya;
        CHECK(loser.error_reply(loser.send(resolve(id, v1::FALSE_ALARM))) == v1::ALREADY_CLAIMED);
        REQUIRE(winner.reply(winner.send(resolve(id, v1::REACHED_OUT))).has_ack());
        for (Client* who : {&maya, &noor})
            who->expect(item(id, v1::ModerationItem::RESOLVED), "closed");
        (b_won ? maya_won : noor_won) += 1;
    }
    // Both instances won some: the race was a race.
    CHECK(maya_won + noor_won == 200);
    MESSAGE("claims won: Maya on B ", maya_won, ", Noor on C ", noor_won);
    const std::vector<const ServerProcess*> all{&a, &b, &c};
    CHECK(total(all, "haven_alert_claim_seconds_count") == 200);

    // The audit log names the claims and the outcomes, never the words.
    const HttpResult audit =
        http_get(a.port(), "/admin/audit?room=lobby&limit=50", false, kDefaultWait, kOperator);
    CHECK(audit.body.find("claim_item") != std::string::npos);
    CHECK(audit.body.find("reached_out") != std::string::npos);
    CHECK(audit.body.find("end my life") == std::string::npos);
}

TEST_CASE("crisis alerts: a moderator who was away finds the open alert again, with its owner") {
    TwoInstances cluster("alert-redelivery", crisis_settings());
    Client author = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    std::string id;
    {
        Client maya = moderator(*cluster.second, kModeratorB);
        id = raise_alert(author);
        maya.expect(item(id, v1::ModerationItem::CRISIS), "live");
    }  // Maya's connection drops before anyone answers
    {
        Client maya = moderator(*cluster.second, kModeratorB);
        const auto items = queue_of(maya);
        const auto found = std::find_if(items.begin(), items.end(),
                                        [&](const v1::ModerationItem& i) { return i.id() == id; });
        REQUIRE(found != items.end());
        CHECK(found->urgent());
        CHECK(found->claimed_by().empty());
        REQUIRE(maya.reply(maya.send(claim(id))).has_ack());
    }
    // Back again on the other instance: still open, now with its owner.
    Client maya = moderator(*cluster.first, kModeratorB);
    auto items = queue_of(maya);
    auto found = std::find_if(items.begin(), items.end(),
                              [&](const v1::ModerationItem& i) { return i.id() == id; });
    REQUIRE(found != items.end());
    CHECK(found->claimed_by() == "Maya");
    // A claim by its owner again is no error; closing it takes it out of every queue.
    CHECK(maya.reply(maya.send(claim(id))).has_ack());
    REQUIRE(maya.reply(maya.send(resolve(id, v1::RESOURCES_GIVEN))).has_ack());
    Client noor = moderator(*cluster.second, kModeratorC);
    items = queue_of(noor);
    CHECK(std::none_of(items.begin(), items.end(),
                       [&](const v1::ModerationItem& i) { return i.id() == id; }));
    // A global moderator may close an alert another moderator owns (someone is away).
    const std::string other = raise_alert(author, 1);
    // The Ack can come before the item is stored: claim what has been seen.
    noor.expect(item(other, v1::ModerationItem::CRISIS), "the other alert");
    REQUIRE(noor.reply(noor.send(claim(other))).has_ack());
    Client gale = moderator(*cluster.first, kGlobalModerator);
    CHECK(maya.error_reply(maya.send(resolve(other, v1::FALSE_ALARM))) == v1::ALREADY_CLAIMED);
    REQUIRE(gale.reply(gale.send(resolve(other, v1::FALSE_ALARM))).has_ack());
    // Bad requests get a clear answer.
    CHECK(noor.error_reply(noor.send(claim(id))) == v1::NOT_FOUND);
    CHECK(noor.error_reply(noor.send(resolve(id, v1::ALERT_OUTCOME_UNSPECIFIED))) ==
          v1::BAD_REQUEST);
    CHECK(noor.error_reply(noor.send(claim(""))) == v1::BAD_REQUEST);
}

TEST_CASE(
    "crisis alerts nobody claims climb the ladder once, on two instances, to the webhook; a "
    "claimed one does not") {
    HttpReceiver receiver;
    const std::string secret = "webhook-test-secret";
    const std::string safety =
        "claim_timeout_seconds = 1\nescalation_step_seconds = 1\n"
        "webhook_url = \"" +
        receiver.url() + "\"\nwebhook_secret = \"" + secret + "\"\nwebhook_attempts = 2\n";
    TwoInstances cluster("alert-ladder", crisis_settings(safety));
    const std::vector<const ServerProcess*> both{cluster.first.get(), cluster.second.get()};
    Client author = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    Client maya = moderator(*cluster.second, kModeratorB);

    const std::string id = raise_alert(author);
    maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert");
    for (std::uint32_t step = 1; step <= 3; ++step) {
        CAPTURE(step);
        const v1::ServerMessage escalated = maya.expect(item(id, v1::ModerationItem::ESCALATED),
                                                        "a step", std::chrono::seconds(10));
        CHECK(escalated.moderation_item().escalation() == step);
    }
    REQUIRE(eventually([&] { return receiver.received().size() == 1; }, std::chrono::seconds(10)));
    // Both instances ran the ladder; each step was taken once.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(receiver.received().size() == 1);
    for (const char* step : {"1", "2", "3"}) {
        CHECK(total(both, std::string("haven_alert_escalations_total{step=\"") + step + "\"}") ==
              1);
    }
    const HttpReceiver::Request sent = receiver.received().front();
    const boost::json::value body = boost::json::parse(sent.body);
    CHECK(body.at("item_id").as_string() == id);
    CHECK(body.at("room_id").as_string() == "lobby");
    CHECK(body.at("step").as_int64() == 3);
    CHECK(body.at("waited_seconds").as_int64() >= 3);
    CHECK(sent.body.find("end my life") == std::string::npos);  // no message text
    CHECK(sent.body.find("Robin") == std::string::npos);        // no identity
    const auto mac = auth::hmac_sha256(secret, sent.body);
    REQUIRE(mac);
    std::string hex;
    for (const unsigned char byte : *mac) {
        static constexpr char kDigits[] = "0123456789abcdef";
        hex += kDigits[byte >> 4];
        hex += kDigits[byte & 15];
    }
    CHECK(sent.head.find("x-haven-signature: sha256=" + hex) != std::string::npos);
    CHECK(total(both, "haven_alert_webhook_sent_total") == 1);

    // Claimed within the timeout: no step, no webhook.
    const std::string answered = raise_alert(author, 1);
    maya.expect(item(answered, v1::ModerationItem::CRISIS), "the second alert");
    REQUIRE(maya.reply(maya.send(claim(answered))).has_ack());
    CHECK_FALSE(maya.next(item(answered, v1::ModerationItem::ESCALATED), std::chrono::seconds(3)));
    CHECK(receiver.received().size() == 1);

    // A receiver that fails: tried webhook_attempts times, then counted as a failure.
    receiver.answer_with(500);
    const std::string failing = raise_alert(author, 2);
    REQUIRE(eventually([&] { return total(both, "haven_alert_webhook_failures_total") == 1; },
                       std::chrono::seconds(15)));
    CHECK(receiver.received().size() == 3);  // the first alert, then two tries
    const HttpResult audit = http_get(cluster.first->port(), "/admin/audit?room=lobby&limit=50",
                                      false, kDefaultWait, kOperator);
    CHECK(audit.body.find("escalate_item") != std::string::npos);
    CHECK(audit.body.find("outside alert sent") != std::string::npos);
}

TEST_CASE(
    "on duty across instances: a moderator on duty on B is in A's roster and the author on A is "
    "told a moderator was let know, until B is killed and the roster forgets them") {
    TwoInstances cluster("duty-roster", crisis_settings());
    const ServerProcess& a = *cluster.first;
    Client author = guest_in(a, Encoding::binary, "lobby", "Robin");
    Client watcher = moderator(a, kGlobalModerator);  // sees the roster on A
    Client maya = moderator(*cluster.second, kModeratorB);

    // Nobody on duty: the panel says so instead of promising a human.
    v1::Alert alone = panel_for(author, "I am going to end my life tonight");
    CHECK_FALSE(alone.moderator_on_duty());
    CHECK(alone.human_note().find("No moderator is available") != std::string::npos);

    // A participant cannot go on duty; a moderator of another room cannot serve the lobby.
    CHECK(author.error_reply(author.send(set_duty(true))) == v1::FORBIDDEN);
    CHECK(maya.error_reply(maya.send(set_duty(true, {"no-such-room"}))) == v1::UNKNOWN_ROOM);

    const v1::ServerMessage own = maya.reply(maya.send(set_duty(true)));
    REQUIRE(own.has_duty_roster());
    REQUIRE(own.duty_roster().on_duty_size() == 1);
    CHECK(own.duty_roster().on_duty(0).handle() == "Maya");
    CHECK(own.duty_roster().on_duty(0).moderates(0) == "lobby");
    // The moderator on A hears of it from B's report.
    const v1::ServerMessage pushed = watcher.expect(roster_with(1), "Maya in A's roster");
    CHECK(pushed.duty_roster().on_duty(0).handle() == "Maya");
    CHECK(metric(a, "haven_on_duty_moderators").value_or(0) == 1);

    const v1::Alert told = panel_for(author, "I want to kill myself, I have the pills here");
    CHECK(told.moderator_on_duty());
    CHECK(told.human_note().find("A moderator has been let know") != std::string::npos);

    // B dies without a word: within the presence timeout A forgets who was on duty there.
    cluster.second->stop(SIGKILL);
    watcher.expect(roster_with(0), "the roster without Maya", std::chrono::seconds(10));
    const v1::Alert after = panel_for(author, "I am going to end my life tonight for real");
    CHECK_FALSE(after.moderator_on_duty());
    CHECK(after.human_note().find("No moderator is available") != std::string::npos);
}

TEST_CASE("on duty: going off duty, or leaving, takes a moderator out of the roster at once") {
    TwoInstances cluster("duty-off", crisis_settings());
    Client watcher = moderator(*cluster.first, kGlobalModerator);
    {
        Client maya = moderator(*cluster.second, kModeratorB);
        REQUIRE(maya.reply(maya.send(set_duty(true, {"lobby"}))).has_duty_roster());
        watcher.expect(roster_with(1), "Maya on duty");
        const v1::ServerMessage off = maya.reply(maya.send(set_duty(false)));
        REQUIRE(off.has_duty_roster());
        CHECK(off.duty_roster().on_duty_size() == 0);
        watcher.expect(roster_with(0), "Maya off duty");
        REQUIRE(maya.reply(maya.send(set_duty(true))).has_duty_roster());
        watcher.expect(roster_with(1), "Maya on duty again");
    }  // Maya's connection closes
    watcher.expect(roster_with(0), "Maya gone", std::chrono::seconds(2));
    // A moderator who connects later finds the roster in Welcome.
    Client noor = moderator(*cluster.second, kModeratorC);
    REQUIRE(noor.reply(noor.send(set_duty(true))).has_duty_roster());
    watcher.expect(roster_with(1), "Noor on duty");
    Client late = moderator(*cluster.first, kGlobalModerator);
    REQUIRE(late.welcome().duty().on_duty_size() == 1);
    CHECK(late.welcome().duty().on_duty(0).handle() == "Noor");
}

}  // namespace haven::test
