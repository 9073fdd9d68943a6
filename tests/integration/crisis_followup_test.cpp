// What follows a crisis alert, across instances on a real Redis: someone who leaves right
// after a crisis post is followed up, unless they come back; a held post nobody answers is
// decided by its room's policy, once, even when its author's instance is killed; and the
// alert's owner reaches out privately, and the person answers.
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "integration/crisis_support.hpp"

namespace haven::test {

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
        gone_at = std::chrono::steady_clock::now();
    }  // Robin's connection ends at once, maybe before the alert has gone round
    maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert on B");
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
    "leave after a crisis post: the author's instance is killed during the grace period: another "
    "instance takes the wait over and tells the moderator on duty, once") {
    TwoInstances cluster("followup-killed", crisis_settings(kShortFollowup));
    Client maya = moderator(*cluster.second, kModeratorB);
    REQUIRE(maya.reply(maya.send(set_duty(true, {"lobby"}))).has_duty_roster());
    Client robin = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    const std::string id = raise_alert(robin);
    maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert on B");
    REQUIRE(robin.reply(robin.send(leave("lobby"))).has_left());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the wait is written down
    cluster.first->stop(SIGKILL);  // A dies with the wait in its memory
    // B takes it over 15 s after the grace (2 s), once.
    const v1::ServerMessage told =
        maya.expect(item(id, v1::ModerationItem::AUTHOR_LEFT), "the notice", Millis(25000));
    CHECK(told.moderation_item().left_at_ms() >= told.moderation_item().time_ms());
    CHECK(notices_for(maya, id, Millis(2500)) == 0);
    CHECK(metric(*cluster.second, "haven_crisis_followups_total") == 1u);
}

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
    noor.expect(item(id, v1::ModerationItem::CLAIMED), "Maya's claim, on A");
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

TEST_CASE(
    "reach out: an instance started after the check-in knows who may answer it, and the answer "
    "reaches the moderator") {
    TwoInstances cluster("check-in-later", crisis_settings());
    Client robin = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    Client maya = moderator(*cluster.second, kModeratorB);
    const std::string id = raise_alert(robin);
    maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert");
    REQUIRE(maya.reply(maya.send(claim(id))).has_ack());
    const std::string hello = "Hi Robin, it's Maya. I'm here if you want to talk.";
    REQUIRE(maya.reply(maya.send(check_in(id, hello))).has_ack());
    robin.expect(private_text(hello), "Maya's check-in");

    ServerProcess later(
        ServerOptions{.toml = cluster_toml(cluster.redis, cluster.prefix, crisis_settings())});
    require_started(later);
    Client robin_phone(later, Encoding::json);  // Robin again, on an instance started since
    robin_phone.hello_guest("Robin", robin.welcome().guest_token());
    const std::string text = "thank you. it helps that someone answered.";
    REQUIRE(robin_phone.reply(robin_phone.send(answer(id, text))).has_ack());
    CHECK(maya.expect(private_text(text), "Robin's answer from the new instance")
              .private_message()
              .thread_id() == id);
    // Someone else on the new instance still cannot answer in Robin's place.
    Client kai = guest_in(later, Encoding::binary, "lobby", "Kai");
    CHECK(kai.error_reply(kai.send(answer(id, "it's Kai"))) == v1::NOT_FOUND);
}

}  // namespace haven::test
