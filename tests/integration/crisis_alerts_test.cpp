// Crisis alerts that reach a human, across instances on a real Redis: an alert raised on one
// instance reaches moderators on the others; a moderator who was away finds it again; two
// moderators claiming at once on two instances, 200 times, leave exactly one owner each time;
// an alert nobody claims climbs the escalation ladder, once, to a local webhook receiver; and
// someone who leaves right after a crisis post is followed up, unless they come back; and a
// held post nobody answers is decided by its room's policy, once, even when its author's
// instance is killed; and the alert's owner reaches out privately, across instances.
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include <boost/json.hpp>

#include "auth/hs256.hpp"
#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"
#include "support/http_receiver.hpp"
#include "support/token_factory.hpp"

namespace haven::test {
namespace {

std::string crisis_settings(const std::string& safety = "") {
    return kFastPosts + "[moderation]\ncrisis_dir = \"" + std::string(HAVEN_SOURCE_DIR) +
           "/config/crisis\"\n[safety]\n" + safety;
}

// Moderators of the lobby by a room grant: neither may close the other's claim.
std::string lobby_moderator(const std::string& subject, const std::string& name) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return make_hs256_token(R"({"sub":")" + subject + R"(","name":")" + name +
                                R"(","rooms":{"lobby":"moderator"},"exp":)" +
                                std::to_string(now + 600) + "}",
                            kJwtSecret);
}

const std::string kModeratorB = lobby_moderator("mod-b", "Maya");
const std::string kModeratorC = lobby_moderator("mod-c", "Noor");
const std::string kGlobalModerator = make_token("mod-g", "Gale", "moderator", 600);
const std::string kOperator = make_token("op-1", "Olive", "operator", 600);

Client moderator(const ServerProcess& server, const std::string& token) {
    Client client(server, Encoding::binary);
    client.hello_token(token);
    return client;
}

Predicate item(const std::string& id, v1::ModerationItem::Kind kind) {
    return [id, kind](const v1::ServerMessage& m) {
        return m.has_moderation_item() && m.moderation_item().id() == id &&
               m.moderation_item().kind() == kind;
    };
}

// Posts crisis language in the lobby and returns the alert's item id.
std::string raise_alert(Client& author, int round = 0) {
    const v1::Ack ack = author.post(
        "lobby", "round " + std::to_string(round) + ": I am going to end my life tonight");
    REQUIRE(ack.seq() > 0);
    return "crisis:lobby:" + std::to_string(ack.seq());
}

v1::ClientMessage claim(const std::string& id) {
    v1::ClientMessage message;
    message.mutable_moderate()->set_room_id("lobby");
    message.mutable_moderate()->set_action(v1::CLAIM_ITEM);
    message.mutable_moderate()->set_item_id(id);
    return message;
}

v1::ClientMessage resolve(const std::string& id, v1::AlertOutcome outcome) {
    v1::ClientMessage message = claim(id);
    message.mutable_moderate()->set_action(v1::RESOLVE_ITEM);
    message.mutable_moderate()->set_outcome(outcome);
    return message;
}

std::vector<v1::ModerationItem> queue_of(Client& client) {
    v1::ClientMessage request;
    request.mutable_moderation_queue();
    const v1::ServerMessage reply = client.reply(client.send(request));
    REQUIRE(reply.has_moderation_queue());
    return {reply.moderation_queue().items().begin(), reply.moderation_queue().items().end()};
}

std::uint64_t total(const std::vector<const ServerProcess*>& servers, const std::string& name) {
    std::uint64_t sum = 0;
    for (const ServerProcess* server : servers) sum += metric(*server, name).value_or(0);
    return sum;
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

}  // namespace haven::test

namespace haven::test {
namespace {

v1::ClientMessage set_duty(bool on_duty, std::vector<std::string> rooms = {}) {
    v1::ClientMessage message;
    message.mutable_set_duty()->set_on_duty(on_duty);
    for (std::string& room : rooms) message.mutable_set_duty()->add_room_ids(std::move(room));
    return message;
}

Predicate roster_with(std::size_t people) {
    return [people](const v1::ServerMessage& m) {
        return m.has_duty_roster() &&
               static_cast<std::size_t>(m.duty_roster().on_duty_size()) == people;
    };
}

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

namespace {

v1::ClientMessage leave(const std::string& room) {
    v1::ClientMessage message;
    message.mutable_leave()->set_room_id(room);
    return message;
}

// How many AUTHOR_LEFT notices for `id` reach `who` within `window`.
std::size_t notices_for(Client& who, const std::string& id, Millis window) {
    std::size_t count = 0;
    for (const v1::ServerMessage& m : who.collect(window)) {
        count += item(id, v1::ModerationItem::AUTHOR_LEFT)(m) ? 1 : 0;
    }
    return count;
}

const std::string kShortFollowup = "followup_minutes = 30\nfollowup_grace_seconds = 2\n";

}  // namespace

TEST_CASE(
    "leave after a crisis post, on two instances: the author's connection ends on A and they do "
    "not come back: the moderator on duty on B is told once, after the grace period, and the "
    "moderator off duty is not") {
    TwoInstances cluster("followup-gone", crisis_settings(kShortFollowup));
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    Client maya = moderator(b, kModeratorB);
    Client noor = moderator(b, kModeratorC);
    REQUIRE(maya.reply(maya.send(set_duty(true, {"lobby"}))).has_duty_roster());
    noor.expect(roster_with(1), "Maya on duty, as B's roster says");

    std::string id;
    std::chrono::steady_clock::time_point gone_at;
    {
        Client robin = guest_in(a, Encoding::binary, "lobby", "Robin");
        id = raise_alert(robin);
        maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert on B");
        gone_at = std::chrono::steady_clock::now();
    }  // Robin's connection ends
    const v1::ServerMessage told =
        maya.expect(item(id, v1::ModerationItem::AUTHOR_LEFT), "the notice", Millis(8000));
    // Not before the grace period (2 s) has passed.
    CHECK(std::chrono::steady_clock::now() - gone_at >= std::chrono::milliseconds(1900));
    CHECK(told.moderation_item().room_id() == "lobby");
    CHECK(told.moderation_item().left_at_ms() > 0);
    CHECK(told.moderation_item().left_at_ms() >= told.moderation_item().time_ms());
    // Once in the whole deployment, and only to the moderator on duty.
    CHECK(notices_for(maya, id, Millis(1500)) == 0);
    CHECK(notices_for(noor, id, Millis(100)) == 0);
    CHECK(total({&a, &b}, "haven_crisis_followups_total") == 1);
    // The stored alert keeps it, for whoever opens the queue later.
    Client later = moderator(a, kGlobalModerator);
    bool marked = false;
    for (const v1::ModerationItem& open : queue_of(later)) {
        if (open.id() == id) marked = open.left_at_ms() == told.moderation_item().left_at_ms();
    }
    CHECK(marked);
    const HttpResult audit =
        http_get(a.port(), "/admin/audit?room=lobby&limit=20", false, kDefaultWait, kOperator);
    CHECK(audit.body.find("author_left") != std::string::npos);
}

TEST_CASE(
    "leave after a crisis post: an author who leaves on A and comes back on B within the grace "
    "period is not reported, and one who leaves a claimed alert is reported to its owner alone") {
    TwoInstances cluster("followup-back", crisis_settings(kShortFollowup));
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    Client maya = moderator(b, kModeratorB);
    Client noor = moderator(a, kModeratorC);
    REQUIRE(maya.reply(maya.send(set_duty(true, {"lobby"}))).has_duty_roster());
    REQUIRE(noor.reply(noor.send(set_duty(true, {"lobby"}))).has_duty_roster());
    maya.expect(roster_with(2), "both on duty");

    // Sam leaves the room on A and is back, as the same guest, on B a moment later.
    Client sam = guest_in(a, Encoding::binary, "lobby", "Sam");
    const std::string pass = sam.welcome().guest_token();
    REQUIRE_FALSE(pass.empty());
    const std::string back_id = raise_alert(sam);
    maya.expect(item(back_id, v1::ModerationItem::CRISIS), "Sam's alert");
    REQUIRE(sam.reply(sam.send(leave("lobby"))).has_left());
    Client sam_again(b, Encoding::binary);
    CHECK(sam_again.hello_guest("Sam", pass).handle() == "Sam");
    sam_again.join("lobby");

    // Robin's alert is claimed by Noor (on duty): when Robin leaves, only Noor hears.
    Client robin = guest_in(a, Encoding::binary, "lobby", "Robin");
    const std::string claimed_id = raise_alert(robin, 1);
    noor.expect(item(claimed_id, v1::ModerationItem::CRISIS), "Robin's alert");
    REQUIRE(noor.reply(noor.send(claim(claimed_id))).has_ack());
    maya.expect(item(claimed_id, v1::ModerationItem::CLAIMED), "Noor's claim");
    REQUIRE(robin.reply(robin.send(leave("lobby"))).has_left());
    noor.expect(item(claimed_id, v1::ModerationItem::AUTHOR_LEFT), "the owner's notice",
                Millis(8000));

    // Well past Sam's grace period too: no notice for Sam, none for Maya about Robin.
    const std::vector<v1::ServerMessage> seen = maya.collect(Millis(2500));
    for (const v1::ServerMessage& m : seen) {
        CHECK_FALSE(item(back_id, v1::ModerationItem::AUTHOR_LEFT)(m));
        CHECK_FALSE(item(claimed_id, v1::ModerationItem::AUTHOR_LEFT)(m));
    }
    CHECK(notices_for(noor, back_id, Millis(100)) == 0);
    CHECK(total({&a, &b}, "haven_crisis_followups_total") == 1);
}

namespace {

// Two rooms that hold crisis posts: one rejects what nobody answers in time, one delivers it.
std::string hold_settings() {
    return kFastPosts + "[moderation]\ncrisis_dir = \"" + std::string(HAVEN_SOURCE_DIR) +
           "/config/crisis\"\nhold_timeout_seconds = 2\n"
           "[[rooms]]\nid = \"lobby\"\ntitle = \"Lobby\"\n"
           "[[rooms]]\nid = \"circle-reject\"\ntitle = \"Circle\"\ncrisis_policy = \"hold\"\n"
           "[[rooms]]\nid = \"circle-deliver\"\ntitle = \"Open circle\"\n"
           "crisis_policy = \"hold\"\nheld_unanswered = \"deliver\"\n";
}

const std::string kHeldWords = "I am going to end my life tonight";

// Posts crisis language in a hold room: held, not published. Returns the hold id.
std::string hold_post(Client& author, const std::string& room, const std::string& text) {
    const v1::Ack ack = author.post(room, text);
    REQUIRE(ack.seq() == 0);
    REQUIRE_FALSE(ack.hold_id().empty());
    return ack.hold_id();
}

Predicate told(v1::Alert::Kind kind, const std::string& room) {
    return [kind, room](const v1::ServerMessage& m) {
        return m.has_alert() && m.alert().kind() == kind && m.alert().room_id() == room;
    };
}

Predicate posted(const std::string& room, const std::string& text) {
    return [room, text](const v1::ServerMessage& m) {
        return m.has_event() && m.event().room_id() == room && m.event().has_posted() &&
               m.event().posted().text() == text;
    };
}

std::size_t occurrences(const std::string& text, const std::string& word) {
    std::size_t count = 0;
    for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        ++count;
    }
    return count;
}

}  // namespace

TEST_CASE(
    "held posts nobody answers, on two instances: once the hold timeout passes each is rejected "
    "or delivered by its room's policy, once in the deployment, and its author is told which") {
    TwoInstances cluster("hold-timeout", hold_settings());
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    Client author(a, Encoding::binary);
    author.hello_guest("Robin");
    Client reader(b, Encoding::binary);
    reader.hello_guest("Kai");
    for (const char* room : {"circle-reject", "circle-deliver"}) {
        author.join(room);
        reader.join(room);
    }
    Client gale = moderator(b, kGlobalModerator);

    const std::string rejected_text = kHeldWords + " (reject room)";
    const std::string delivered_text = kHeldWords + " (deliver room)";
    const std::string rejected = hold_post(author, "circle-reject", rejected_text);
    const std::string delivered = hold_post(author, "circle-deliver", delivered_text);
    gale.expect(item("held:" + rejected, v1::ModerationItem::HELD_POST), "the first held post");
    gale.expect(item("held:" + delivered, v1::ModerationItem::HELD_POST), "the second");

    // Not shared in the rejecting room; the author hears so, kindly.
    const v1::ServerMessage no =
        author.expect(told(v1::Alert::POST_REJECTED, "circle-reject"), "rejected", Millis(8000));
    CHECK(no.alert().message().find("was not shared") != std::string::npos);
    // Shared in the delivering room, marked as released; the author hears that too.
    const v1::ServerMessage shared = reader.expect(posted("circle-deliver", delivered_text),
                                                   "the delivered post on B", Millis(8000));
    CHECK(shared.event().posted().released());
    CHECK(shared.event().seq() > 0);
    const v1::ServerMessage yes =
        author.expect(told(v1::Alert::POST_RELEASED, "circle-deliver"), "delivered");
    CHECK(yes.alert().message().find("has been shared") != std::string::npos);
    // The queue closes both.
    gale.expect(item("held:" + rejected, v1::ModerationItem::RESOLVED), "the first closed");
    gale.expect(item("held:" + delivered, v1::ModerationItem::RESOLVED), "the second closed");

    // Nothing more: no copy of the rejected post, no second delivery, one decision each.
    for (const v1::ServerMessage& m : reader.collect(Millis(1500))) {
        CHECK_FALSE(posted("circle-reject", rejected_text)(m));
        CHECK_FALSE(posted("circle-deliver", delivered_text)(m));
    }
    const HttpResult audit =
        http_get(b.port(), "/admin/audit?limit=50", false, kDefaultWait, kOperator);
    CHECK(occurrences(audit.body, "hold_expired") == 2);
    CHECK(audit.body.find("rejected after") != std::string::npos);
    CHECK(audit.body.find("delivered after") != std::string::npos);
    // A moderator who comes too late is told it was answered.
    v1::ClientMessage release;
    release.mutable_moderate()->set_room_id("circle-reject");
    release.mutable_moderate()->set_action(v1::RELEASE_POST);
    release.mutable_moderate()->set_hold_id(rejected);
    CHECK(gale.error_reply(gale.send(release)) == v1::NOT_FOUND);
}

TEST_CASE(
    "held posts nobody answers: when the author's instance is killed, another instance decides "
    "their post after its own delay") {
    TwoInstances cluster("hold-killed", hold_settings());
    Client gale = moderator(*cluster.second, kGlobalModerator);
    std::string hold_id;
    {
        Client author = guest_in(*cluster.first, Encoding::binary, "circle-reject", "Robin");
        hold_id = hold_post(author, "circle-reject", kHeldWords);
        gale.expect(item("held:" + hold_id, v1::ModerationItem::HELD_POST), "the held post");
        cluster.first->stop(SIGKILL);
    }
    // B waits the timeout and its delay for A, then decides.
    const auto started = std::chrono::steady_clock::now();
    gale.expect(item("held:" + hold_id, v1::ModerationItem::RESOLVED), "closed by B",
                Millis(30'000));
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::seconds(10));
    const HttpResult audit =
        http_get(cluster.second->port(), "/admin/audit?limit=20", false, kDefaultWait, kOperator);
    CHECK(occurrences(audit.body, "hold_expired") == 1);
}

namespace {

v1::ClientMessage check_in(const std::string& id, const std::string& text) {
    v1::ClientMessage message;
    message.mutable_check_in()->set_item_id(id);
    message.mutable_check_in()->set_text(text);
    return message;
}

v1::ClientMessage answer(const std::string& thread, const std::string& text) {
    v1::ClientMessage message;
    message.mutable_check_in_reply()->set_thread_id(thread);
    message.mutable_check_in_reply()->set_text(text);
    return message;
}

Predicate private_text(const std::string& text) {
    return [text](const v1::ServerMessage& m) {
        return m.has_private_message() && m.private_message().text() == text;
    };
}

}  // namespace

TEST_CASE(
    "reach out across instances: the alert's owner on B writes privately to its author on A, "
    "every session of theirs gets it and nobody else does, and their answer reaches the owner "
    "alone") {
    TwoInstances cluster("check-in", crisis_settings());
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    Client robin = guest_in(a, Encoding::binary, "lobby", "Robin");
    Client robin_tab(b, Encoding::json);  // the same guest in a second tab, on B
    robin_tab.hello_guest("Robin", robin.welcome().guest_token());
    Client kai = guest_in(b, Encoding::binary, "lobby", "Kai");
    Client maya = moderator(b, kModeratorB);
    Client noor = moderator(a, kModeratorC);

    const std::string id = raise_alert(robin);
    maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert");
    noor.expect(item(id, v1::ModerationItem::CRISIS), "the alert on A");
    const std::string hello = "Hi Robin, it's Maya, one of the moderators. I'm here.";
    // One moderator reaches out: the one who claimed it.
    CHECK(maya.error_reply(maya.send(check_in(id, hello))) == v1::FORBIDDEN);
    REQUIRE(maya.reply(maya.send(claim(id))).has_ack());
    CHECK(noor.error_reply(noor.send(check_in(id, hello))) == v1::ALREADY_CLAIMED);
    CHECK(kai.error_reply(kai.send(check_in(id, hello))) == v1::FORBIDDEN);
    CHECK(maya.error_reply(maya.send(check_in("crisis:lobby:999999", hello))) == v1::NOT_FOUND);
    CHECK(maya.error_reply(maya.send(check_in(id, ""))) == v1::BAD_REQUEST);

    REQUIRE(maya.reply(maya.send(check_in(id, hello))).has_ack());
    for (Client* tab : {&robin, &robin_tab}) {
        const v1::ServerMessage got = tab->expect(private_text(hello), "Maya's check-in");
        CHECK(got.private_message().thread_id() == id);
        CHECK(got.private_message().room_id() == "lobby");
        CHECK(got.private_message().from().handle() == "Maya");
        CHECK(got.private_message().from().role() == v1::ROLE_MODERATOR);
        CHECK(got.private_message().from_moderator());
    }
    // Somebody else cannot answer in Robin's place.
    CHECK(kai.error_reply(kai.send(answer(id, "it's Kai"))) == v1::NOT_FOUND);
    const std::string reply_text = "Thank you. I'm still here. It's been a really hard night.";
    REQUIRE(robin.reply(robin.send(answer(id, reply_text))).has_ack());
    const v1::ServerMessage heard = maya.expect(private_text(reply_text), "Robin's answer on B");
    CHECK(heard.private_message().from().handle() == "Robin");
    CHECK_FALSE(heard.private_message().from_moderator());
    CHECK(heard.private_message().thread_id() == id);

    // Nobody else saw a word of it.
    for (Client* other : {&kai, &noor}) {
        for (const v1::ServerMessage& m : other->collect(Millis(500))) {
            CHECK_FALSE(m.has_private_message());
        }
    }
    // The audit log says that Maya reached out, never what she wrote.
    const HttpResult audit =
        http_get(a.port(), "/admin/audit?room=lobby&limit=20", false, kDefaultWait, kOperator);
    CHECK(audit.body.find("check_in") != std::string::npos);
    CHECK(audit.body.find("I'm here") == std::string::npos);
    CHECK(audit.body.find("hard night") == std::string::npos);
}

}  // namespace haven::test
