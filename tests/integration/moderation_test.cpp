// Moderation: permissions, flags, moderator actions and their enforcement, crisis language,
// contact-detail redaction, the audit log, the moderation queue, and the privacy of the
// people moderators act on. Every case starts its own server (memory broker, two shards) and
// mixes binary and JSON clients, so each behaviour is seen in both encodings.
// Over 400 lines: the moderation features share their servers' setup and client helpers; each case
// stands alone.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "integration/helpers.hpp"
#include "support/token_factory.hpp"

#ifndef HAVEN_SOURCE_DIR
#error "HAVEN_SOURCE_DIR must name the source tree (for config/crisis)"
#endif

namespace haven::test {
namespace {

using namespace std::chrono_literals;

// Generous post limits, so the tests' bursts of posts never meet the rate limit.
const std::string kFastPosts = "[limits]\nposts_per_second = 1000.0\npost_burst = 1000\n";
// How long "nothing arrives" is watched for.
constexpr Millis kQuiet = 300ms;

std::string crisis_dir() {
    return std::string(HAVEN_SOURCE_DIR) + "/config/crisis";
}

// Two rooms: "lobby" delivers posts with crisis language, "evening-circle" holds them.
const std::string kCrisisRooms = R"([[rooms]]
id = "lobby"
title = "Drop-in lounge"
kind = "drop_in"

[[rooms]]
id = "anxiety-support"
title = "Anxiety support"
kind = "group"

[[rooms]]
id = "evening-circle"
title = "Evening circle"
kind = "meeting"
crisis_policy = "hold"
)";

// Token sign-in, guests, fast posts, plus the given extra TOML.
ServerOptions options_with(const std::string& extra = "") {
    ServerOptions options;
    options.toml = jwt_auth_toml() + kFastPosts + extra;
    return options;
}

std::string crisis_toml(const std::string& extra_moderation = "") {
    return "[moderation]\ncrisis_dir = \"" + crisis_dir() + "\"\n" + extra_moderation + "\n" +
           kCrisisRooms;
}

// A signed token, optionally with per-room grants (`rooms_json` is the claim's object).
std::string token(const std::string& subject, const std::string& name, const std::string& role,
                  const std::string& rooms_json = "") {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string payload = "{\"sub\":\"" + subject + "\",\"name\":\"" + name + "\"";
    if (!role.empty()) payload += ",\"role\":\"" + role + "\"";
    if (!rooms_json.empty()) payload += ",\"rooms\":" + rooms_json;
    payload += ",\"exp\":" + std::to_string(now + 3600) + "}";
    return make_hs256_token(payload, kJwtSecret);
}

// A client signed in with a token (and, when `room` is set, joined to it).
Client signed_in(const ServerProcess& server, Encoding encoding, const std::string& token_text,
                 const std::string& room = "") {
    Client client(server, encoding);
    client.hello_token(token_text);
    if (!room.empty()) client.join(room);
    return client;
}

// ---- message builders ----------------------------------------------------------------------

// Moderate{...} built fluently: client.send(Mod("lobby", v1::KICK).member(id).reason("spam")).
struct Mod {
    v1::ClientMessage message;
    Mod(const std::string& room, v1::ModerationAction action) {
        message.mutable_moderate()->set_room_id(room);
        message.mutable_moderate()->set_action(action);
    }
    Mod& seq(std::uint64_t value) {
        message.mutable_moderate()->set_seq(value);
        return *this;
    }
    Mod& member(const std::string& value) {
        message.mutable_moderate()->set_member_id(value);
        return *this;
    }
    Mod& subject(const std::string& value) {
        message.mutable_moderate()->set_subject(value);
        return *this;
    }
    Mod& duration(std::uint32_t seconds) {
        message.mutable_moderate()->set_duration_seconds(seconds);
        return *this;
    }
    Mod& reason(const std::string& value) {
        message.mutable_moderate()->set_reason(value);
        return *this;
    }
    Mod& slow(std::uint32_t seconds) {
        message.mutable_moderate()->set_slow_mode_seconds(seconds);
        return *this;
    }
    Mod& global(bool value = true) {
        message.mutable_moderate()->set_global(value);
        return *this;
    }
    Mod& hold(const std::string& value) {
        message.mutable_moderate()->set_hold_id(value);
        return *this;
    }
    operator v1::ClientMessage() const { return message; }
};

v1::ClientMessage msg_flag(const std::string& room, std::uint64_t seq, v1::FlagReason reason,
                           const std::string& note = "") {
    v1::ClientMessage message;
    v1::Flag* flag = message.mutable_flag();
    flag->set_room_id(room);
    flag->set_seq(seq);
    flag->set_reason(reason);
    flag->set_note(note);
    return message;
}

v1::ClientMessage msg_audit(const std::string& room, const std::string& before_id = "",
                            std::uint32_t limit = 0) {
    v1::ClientMessage message;
    message.mutable_audit()->set_room_id(room);
    message.mutable_audit()->set_before_id(before_id);
    message.mutable_audit()->set_limit(limit);
    return message;
}

v1::ClientMessage msg_queue() {
    v1::ClientMessage message;
    message.mutable_moderation_queue();
    return message;
}

// ---- round trips ---------------------------------------------------------------------------

// Sends and REQUIREs an Ack.
v1::Ack acked(Client& client, const v1::ClientMessage& message) {
    const v1::ServerMessage reply = client.reply(client.send(message));
    INFO("request: " << message.ShortDebugString());
    INFO("reply: " << describe(reply));
    REQUIRE(reply.has_ack());
    return reply.ack();
}

// Sends and returns the Error code of the reply (REQUIREd to be an Error).
v1::ErrorCode refused(Client& client, const v1::ClientMessage& message) {
    INFO("request: " << message.ShortDebugString());
    return client.error_reply(client.send(message));
}

v1::Error error_of(Client& client, const v1::ClientMessage& message) {
    const v1::ServerMessage reply = client.reply(client.send(message));
    INFO("request: " << message.ShortDebugString());
    INFO("reply: " << describe(reply));
    REQUIRE(reply.has_error());
    return reply.error();
}

v1::AuditPage audit_page(Client& client, const std::string& room, const std::string& before = "",
                         std::uint32_t limit = 0) {
    const v1::ServerMessage reply = client.reply(client.send(msg_audit(room, before, limit)));
    INFO("reply to AuditRequest: " << describe(reply));
    REQUIRE(reply.has_audit());
    return reply.audit();
}

v1::ModerationQueue queue_of(Client& client) {
    const v1::ServerMessage reply = client.reply(client.send(msg_queue()));
    INFO("reply to ModerationQueueRequest: " << describe(reply));
    REQUIRE(reply.has_moderation_queue());
    return reply.moderation_queue();
}

std::set<std::string> item_ids(const v1::ModerationQueue& queue) {
    std::set<std::string> ids;
    for (const auto& item : queue.items()) ids.insert(item.id());
    return ids;
}

// Polls the audit log until it holds `count` entries (entries are appended asynchronously,
// just after the action's Ack).
v1::AuditPage audit_with(Client& client, const std::string& room, int count) {
    v1::AuditPage page;
    const bool reached = eventually(
        [&] {
            page = audit_page(client, room, "", 200);
            return page.entries_size() >= count;
        },
        kDefaultWait, 20ms);
    INFO("audit: " << page.ShortDebugString());
    REQUIRE(reached);
    return page;
}

// ---- predicates ----------------------------------------------------------------------------

Predicate event_of(const std::string& room, v1::Event::KindCase kind) {
    return [room, kind](const v1::ServerMessage& m) {
        return m.has_event() && m.event().room_id() == room && m.event().kind_case() == kind;
    };
}

Predicate item_of(v1::ModerationItem::Kind kind, const std::string& room) {
    return [kind, room](const v1::ServerMessage& m) {
        return m.has_moderation_item() && m.moderation_item().kind() == kind &&
               m.moderation_item().room_id() == room;
    };
}

Predicate alert_of(v1::Alert::Kind kind) {
    return [kind](const v1::ServerMessage& m) { return m.has_alert() && m.alert().kind() == kind; };
}

Predicate left_with(const std::string& room, const std::string& reason) {
    return [room, reason](const v1::ServerMessage& m) {
        return m.has_left() && m.left().room_id() == room && m.left().reason() == reason;
    };
}

Predicate posted_text(const std::string& room, const std::string& text) {
    return [room, text](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_posted() && m.event().room_id() == room &&
               m.event().posted().text() == text;
    };
}

bool has_posted_seq(const google::protobuf::RepeatedPtrField<v1::Event>& events,
                    std::uint64_t seq) {
    return std::any_of(events.begin(), events.end(),
                       [seq](const v1::Event& e) { return e.has_posted() && e.seq() == seq; });
}

// ---- privacy -------------------------------------------------------------------------------

// No server-internal identity in an event a client receives.
void check_event_private(const v1::Event& event) {
    INFO("event: " << event.ShortDebugString());
    CHECK(event.posted().author_subject().empty());
    CHECK(event.post_restored().post().author_subject().empty());
    CHECK(event.member_muted().subject().empty());
    CHECK(event.member_unmuted().subject().empty());
    CHECK(event.member_removed().subject().empty());
    CHECK(event.member_unbanned().subject().empty());
}

// Everything a participant receives: no internal identities, and nothing meant for moderators.
void check_private(const v1::ServerMessage& message) {
    INFO("message: " << describe(message));
    CHECK_FALSE(message.has_moderation_item());
    CHECK_FALSE(message.has_audit());
    CHECK_FALSE(message.has_moderation_queue());
    if (message.has_event()) check_event_private(message.event());
    for (const auto& event : message.joined().events()) check_event_private(event);
    for (const auto& event : message.history().events()) check_event_private(event);
}

// expect() for a participant: the message found is also checked for privacy.
v1::ServerMessage expect_private(Client& client, const Predicate& match, const char* what,
                                 Millis timeout = kDefaultWait) {
    v1::ServerMessage message = client.expect(match, what, timeout);
    check_private(message);
    return message;
}

// Reads raw frames until one decodes to a message matching `stop`, checking that none of the
// bytes contain any of `secrets`. Returns every message (the inbox's first), decoded.
std::vector<v1::ServerMessage> read_raw_until(Client& client, const Predicate& stop,
                                              const std::vector<std::string>& secrets,
                                              Millis timeout = kDefaultWait) {
    std::vector<v1::ServerMessage> out(client.inbox().begin(), client.inbox().end());
    client.inbox().clear();
    if (std::any_of(out.begin(), out.end(), stop)) return out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        REQUIRE_MESSAGE(now < deadline, "the expected message did not arrive");
        auto frame = client.ws().receive_frame(std::chrono::duration_cast<Millis>(deadline - now));
        REQUIRE_MESSAGE(frame.has_value(), client.ws().last_error());
        for (const std::string& secret : secrets) {
            INFO("secret: " << secret);
            CHECK(frame->bytes.find(secret) == std::string::npos);
        }
        v1::ServerMessage message;
        REQUIRE(protocol::decode_server(frame->bytes, client.encoding(), message));
        out.push_back(message);
        if (stop(message)) return out;
    }
}

// ---- 1. permissions ------------------------------------------------------------------------

TEST_CASE("moderation: participants get FORBIDDEN for every moderator request") {
    ServerProcess server(options_with());
    require_started(server);

    Client guest(server, Encoding::binary);
    guest.hello_guest("Curious Guest");
    guest.join("lobby");
    Client participant =
        signed_in(server, Encoding::json, token("sub-part", "Part", "participant"), "lobby");
    Client supporter =
        signed_in(server, Encoding::binary, token("sub-peer", "Peer", "peer_supporter"), "lobby");
    const v1::Ack post = guest.post("lobby", "a post to act on");

    for (Client* client : {&guest, &participant, &supporter}) {
        CAPTURE(client->welcome().handle());
        for (int action = v1::MODERATION_ACTION_UNSPECIFIED; action <= v1::RESOLVE_FLAGS;
             ++action) {
            CAPTURE(action);
            // Every field an action could need is set, so only the permission can refuse it.
            const v1::ClientMessage moderate =
                Mod("lobby", static_cast<v1::ModerationAction>(action))
                    .seq(post.seq())
                    .member(guest.member_id())
                    .subject("sub-part")
                    .reason("because")
                    .duration(60)
                    .slow(5)
                    .hold("0123456789abcdef");
            CHECK(refused(*client, moderate) == v1::FORBIDDEN);
        }
        CHECK(refused(*client,
                      Mod("lobby", v1::BAN).member(guest.member_id()).reason("because").global()) ==
              v1::FORBIDDEN);
        CHECK(refused(*client, msg_audit("")) == v1::FORBIDDEN);
        CHECK(refused(*client, msg_audit("lobby")) == v1::FORBIDDEN);
        CHECK(refused(*client, msg_queue()) == v1::FORBIDDEN);
    }
    // Nothing happened: the post is still there and nobody was removed.
    Client later(server, Encoding::json);
    later.hello_guest();
    const v1::Joined joined = later.join("lobby");
    CHECK(has_posted_seq(joined.events(), post.seq()));
    CHECK(joined.members_size() == 4);
    CHECK(joined.last_seq() == post.seq());  // no moderation event was published
    guest.post("lobby", "still allowed to post");
}

TEST_CASE("moderation: a room grant moderates only its room, a global moderator moderates all") {
    ServerProcess server(options_with());
    require_started(server);

    Client room_mod(server, Encoding::json);
    const v1::Welcome welcome =
        room_mod.hello_token(token("sub-rita", "Rita", "", R"({"lobby":"moderator"})"));
    CHECK(welcome.role() == v1::ROLE_PARTICIPANT);  // the grant is per room
    // Others see the role this person has in each room.
    const v1::Joined in_lobby = room_mod.join("lobby");
    const v1::Joined in_anxiety = room_mod.join("anxiety-support");
    REQUIRE(in_lobby.members_size() == 1);
    CHECK(in_lobby.members(0).role() == v1::ROLE_MODERATOR);
    REQUIRE(in_anxiety.members_size() == 1);
    CHECK(in_anxiety.members(0).role() == v1::ROLE_PARTICIPANT);

    CHECK(acked(room_mod, Mod("lobby", v1::LOCK_ROOM)).seq() > 0);
    CHECK(acked(room_mod, Mod("lobby", v1::UNLOCK_ROOM)).seq() > 0);
    CHECK(refused(room_mod, Mod("anxiety-support", v1::LOCK_ROOM)) == v1::FORBIDDEN);
    CHECK(refused(room_mod, Mod("anxiety-support", v1::SET_SLOW_MODE).slow(5)) == v1::FORBIDDEN);
    CHECK(refused(room_mod, Mod("anxiety-support", v1::HIDE_POST).seq(1)) == v1::FORBIDDEN);
    CHECK(audit_page(room_mod, "lobby").entries_size() >= 1);
    CHECK(refused(room_mod, msg_audit("anxiety-support")) == v1::FORBIDDEN);
    queue_of(room_mod);
    // A room ban is within the grant; a global ban or unban is not. (The person has signed
    // in before, so their role is known.)
    signed_in(server, Encoding::binary, token("sub-someone", "Someone", "participant"));
    signed_in(server, Encoding::binary, token("sub-x", "Ex", "participant"));
    CHECK(acked(room_mod, Mod("lobby", v1::BAN).subject("sub-someone").reason("spam")).seq() > 0);
    CHECK(acked(room_mod, Mod("lobby", v1::UNBAN).subject("sub-someone")).seq() > 0);
    CHECK(refused(room_mod, Mod("lobby", v1::BAN).subject("sub-someone").reason("spam").global()) ==
          v1::FORBIDDEN);
    CHECK(refused(room_mod, Mod("lobby", v1::UNBAN).subject("sub-someone").global()) ==
          v1::FORBIDDEN);

    Client global_mod = signed_in(server, Encoding::binary, token("sub-gil", "Gil", "moderator"));
    CHECK(global_mod.welcome().role() == v1::ROLE_MODERATOR);
    for (const char* room : {"lobby", "anxiety-support", "grief-and-loss"}) {
        CAPTURE(room);
        CHECK(acked(global_mod, Mod(room, v1::LOCK_ROOM).reason("check")).seq() > 0);
        CHECK(acked(global_mod, Mod(room, v1::UNLOCK_ROOM)).seq() > 0);
        audit_page(global_mod, room);
    }
    audit_page(global_mod, "");
    queue_of(global_mod);
    CHECK(acked(global_mod, Mod("lobby", v1::BAN).subject("sub-x").reason("abuse").global())
              .room_id() == "lobby");
    CHECK(acked(global_mod, Mod("lobby", v1::UNBAN).subject("sub-x").global()).room_id() ==
          "lobby");

    // An operator outranks a moderator.
    Client operator_ = signed_in(server, Encoding::json, token("sub-op", "Opal", "operator"));
    CHECK(acked(operator_, Mod("grief-and-loss", v1::SET_SLOW_MODE).slow(0)).seq() > 0);

    // Requests a moderator may make, but malformed.
    CHECK(refused(global_mod, Mod("no-such-room", v1::LOCK_ROOM)) == v1::UNKNOWN_ROOM);
    CHECK(refused(global_mod, Mod("lobby", v1::MODERATION_ACTION_UNSPECIFIED)) == v1::BAD_REQUEST);
    CHECK(refused(global_mod, Mod("lobby", v1::HIDE_POST)) == v1::BAD_REQUEST);           // no seq
    CHECK(refused(global_mod, Mod("lobby", v1::KICK).member("x")) == v1::BAD_REQUEST);    // reason
    CHECK(refused(global_mod, Mod("lobby", v1::MUTE).reason("why")) == v1::BAD_REQUEST);  // who
    CHECK(refused(global_mod, Mod("lobby", v1::RELEASE_POST)) == v1::BAD_REQUEST);        // hold_id
    CHECK(refused(global_mod, Mod("lobby", v1::SET_SLOW_MODE).slow(3601)) == v1::BAD_REQUEST);
    CHECK(refused(global_mod, Mod("lobby", v1::KICK).member("nobody-here").reason("x")) ==
          v1::NOT_FOUND);
}

// ---- 2. flags ------------------------------------------------------------------------------

TEST_CASE("moderation: flags reach moderators once per person and enough of them hide a post") {
    ServerProcess server(options_with("[moderation]\nflag_threshold = 2\n"));
    require_started(server);

    // A global moderator who has not joined any room, and a lobby moderator.
    Client moderator = signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"));
    Client room_mod = signed_in(server, Encoding::binary,
                                token("sub-rm", "Romy", "participant", R"({"lobby":"moderator"})"));
    Client author =
        signed_in(server, Encoding::binary, token("sub-author", "Ash", "participant"), "lobby");
    Client first(server, Encoding::json);
    first.hello_guest("First Flagger");
    first.join("lobby");
    Client second(server, Encoding::binary);
    second.hello_guest("Second Flagger");
    second.join("lobby");

    const v1::Ack post = author.post("lobby", "something unkind", "unkind-1");
    const v1::Ack other = author.post("lobby", "something fine", "fine-1");

    const v1::Ack flag_ack =
        acked(first, msg_flag("lobby", post.seq(), v1::FLAG_HARASSMENT, "this hurt someone"));
    CHECK(flag_ack.room_id() == "lobby");
    CHECK(flag_ack.seq() == post.seq());

    for (Client* mod : {&moderator, &room_mod}) {
        const v1::ModerationItem item =
            mod->expect(item_of(v1::ModerationItem::FLAG, "lobby"), "the flag item")
                .moderation_item();
        CHECK(item.seq() == post.seq());
        CHECK(item.flag_count() == 1);
        CHECK(item.reason() == v1::FLAG_HARASSMENT);
        CHECK(item.note() == "this hurt someone");
        CHECK_FALSE(item.urgent());
        CHECK(item.post().text() == "something unkind");
        CHECK(item.post().author().handle() == "Ash");
        CHECK(item.post().author_subject() == "sub-author");  // moderators act on the person
        CHECK_FALSE(item.id().empty());
        CHECK(item.time_ms() > 0);
    }

    // Once per person; and only real posts.
    CHECK(refused(first, msg_flag("lobby", post.seq(), v1::FLAG_SPAM)) == v1::ALREADY_FLAGGED);
    CHECK(refused(first, msg_flag("lobby", 999, v1::FLAG_SPAM)) == v1::NOT_FOUND);
    CHECK(refused(first, msg_flag("lobby", post.seq(), v1::FLAG_REASON_UNSPECIFIED)) ==
          v1::BAD_REQUEST);
    CHECK(refused(first, msg_flag("anxiety-support", 1, v1::FLAG_SPAM)) == v1::NOT_JOINED);
    CHECK(refused(first, msg_flag("lobby", post.seq(), v1::FLAG_SPAM, std::string(501, 'x'))) ==
          v1::BAD_REQUEST);
    // The same person on a second connection is still the same person.
    Client author_again =
        signed_in(server, Encoding::json, token("sub-author", "Ash", "participant"), "lobby");
    acked(author_again, msg_flag("lobby", other.seq(), v1::FLAG_OTHER));
    CHECK(refused(author, msg_flag("lobby", other.seq(), v1::FLAG_OTHER)) == v1::ALREADY_FLAGGED);
    // The hiding threshold has not been reached by a repeated flagger.
    for (Client* member : {&author, &first, &second}) {
        CHECK_FALSE(member->next(event_of("lobby", v1::Event::kPostHidden), 100ms).has_value());
    }

    // A second distinct person: the post is hidden pending review.
    acked(second, msg_flag("lobby", post.seq(), v1::FLAG_CRISIS, "worried"));
    {
        const v1::ModerationItem item =
            moderator
                .expect(
                    [&](const v1::ServerMessage& m) {
                        return item_of(v1::ModerationItem::FLAG, "lobby")(m) &&
                               m.moderation_item().seq() == post.seq() &&
                               m.moderation_item().flag_count() == 2;
                    },
                    "the second flag item")
                .moderation_item();
        CHECK(item.reason() == v1::FLAG_CRISIS);
        CHECK(item.urgent());  // a crisis flag is urgent
        CHECK(item.note() == "worried");
    }
    for (Client* mod : {&moderator, &room_mod}) {
        const v1::ModerationItem hidden =
            mod->expect(item_of(v1::ModerationItem::AUTO_HIDDEN, "lobby"), "the auto-hidden item")
                .moderation_item();
        CHECK(hidden.seq() == post.seq());
        CHECK(hidden.flag_count() == 2);
        CHECK(hidden.post().text() == "something unkind");
    }
    for (Client* member : {&author, &first, &second}) {
        const v1::Event event = expect_private(*member, event_of("lobby", v1::Event::kPostHidden),
                                               "post_hidden after two flags")
                                    .event();
        CHECK(event.post_hidden().seq() == post.seq());
        CHECK(event.post_hidden().by().handle().empty());  // an automatic decision
        CHECK(event.seq() > other.seq());                  // sequenced like a post
    }
    // Only at the threshold: a third flag does not hide it twice.
    Client third(server, Encoding::json);
    third.hello_guest("Third Flagger");
    const v1::Joined third_joined = third.join("lobby");
    CHECK_FALSE(has_posted_seq(third_joined.events(), post.seq()));  // hidden from participants
    CHECK(has_posted_seq(third_joined.events(), other.seq()));
    for (const auto& event : third_joined.events()) check_event_private(event);
    acked(third, msg_flag("lobby", post.seq(), v1::FLAG_HARASSMENT));
    CHECK_FALSE(first.next(event_of("lobby", v1::Event::kPostHidden), 200ms).has_value());

    // Moderators joining still see it, whether their grant is global or for this room.
    CHECK(has_posted_seq(moderator.join("lobby").events(), post.seq()));
    CHECK(has_posted_seq(room_mod.join("lobby").events(), post.seq()));
}

// ---- 3. hide and restore -------------------------------------------------------------------

TEST_CASE("moderation: hidden posts leave history and recovery until a moderator restores them") {
    ServerProcess server(options_with());
    require_started(server);

    Client moderator =
        signed_in(server, Encoding::binary, token("sub-mod", "Mo", "moderator"), "lobby");
    Client author(server, Encoding::json);
    author.hello_guest("Writer");
    author.join("lobby");
    Client reader(server, Encoding::binary);
    const v1::Welcome reader_welcome = reader.hello_guest("Reader");
    reader.join("lobby");

    const std::uint64_t keep = author.post("lobby", "keep me").seq();
    const std::uint64_t hide = author.post("lobby", "hide me").seq();
    const std::uint64_t after = author.post("lobby", "after").seq();

    CHECK(refused(moderator, Mod("lobby", v1::HIDE_POST).seq(999)) == v1::NOT_FOUND);
    const v1::Ack hidden_ack =
        acked(moderator, Mod("lobby", v1::HIDE_POST).seq(hide).reason("unkind"));
    CHECK(hidden_ack.seq() == after + 1);
    // A post_hidden event is not itself a post to hide.
    CHECK(refused(moderator, Mod("lobby", v1::HIDE_POST).seq(hidden_ack.seq())) == v1::NOT_FOUND);

    for (Client* member : {&author, &reader}) {
        const v1::Event event =
            expect_private(*member, event_of("lobby", v1::Event::kPostHidden), "post_hidden")
                .event();
        CHECK(event.seq() == hidden_ack.seq());
        CHECK(event.post_hidden().seq() == hide);
        CHECK(event.post_hidden().by().handle() == "Mo");
        CHECK(event.post_hidden().reason() == "unkind");
    }

    // History: participants no longer get it; the moderator does.
    {
        const v1::ServerMessage page = expect_private(
            reader, reply_to(reader.send(msg_history("lobby", 0, 0, 50))), "history page");
        REQUIRE(page.has_history());
        CHECK(has_posted_seq(page.history().events(), keep));
        CHECK_FALSE(has_posted_seq(page.history().events(), hide));
        CHECK(has_posted_seq(page.history().events(), after));
        const v1::ServerMessage forward =
            reader.reply(reader.send(msg_history("lobby", 0, keep, 50)));
        REQUIRE(forward.has_history());
        CHECK_FALSE(has_posted_seq(forward.history().events(), hide));
        const v1::ServerMessage mod_page =
            moderator.reply(moderator.send(msg_history("lobby", 0, 0, 50)));
        REQUIRE(mod_page.has_history());
        CHECK(has_posted_seq(mod_page.history().events(), hide));
    }
    // Recovery: a reconnecting participant gets the events after since_seq, without it.
    reader.ws().drop();
    Client back(server, Encoding::json);
    back.hello_guest("", reader_welcome.guest_token());
    const v1::Joined recovered = back.join("lobby", keep);
    CHECK(recovered.recovered());
    CHECK_FALSE(has_posted_seq(recovered.events(), hide));
    CHECK(has_posted_seq(recovered.events(), after));
    CHECK(std::any_of(recovered.events().begin(), recovered.events().end(),
                      [](const v1::Event& e) { return e.has_post_hidden(); }));
    for (const auto& event : recovered.events()) check_event_private(event);

    // Restored: members get it back with the post itself.
    const v1::Ack restored_ack =
        acked(moderator, Mod("lobby", v1::RESTORE_POST).seq(hide).reason("on reflection"));
    CHECK(restored_ack.seq() == hidden_ack.seq() + 1);
    for (Client* member : {&author, &back}) {
        const v1::Event event =
            expect_private(*member, event_of("lobby", v1::Event::kPostRestored), "post_restored")
                .event();
        CHECK(event.post_restored().seq() == hide);
        CHECK(event.post_restored().post().text() == "hide me");
        CHECK(event.post_restored().post().author().handle() == "Writer");
        CHECK(event.post_restored().by().handle() == "Mo");
    }
    const v1::ServerMessage page = back.reply(back.send(msg_history("lobby", 0, 0, 50)));
    REQUIRE(page.has_history());
    CHECK(has_posted_seq(page.history().events(), hide));
    Client newcomer(server, Encoding::binary);
    newcomer.hello_guest();
    CHECK(has_posted_seq(newcomer.join("lobby").events(), hide));
}

// ---- 4. mute -------------------------------------------------------------------------------

TEST_CASE("moderation: a muted member cannot post until unmuted or the mute expires") {
    ServerProcess server(options_with());
    require_started(server);

    Client moderator =
        signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"), "lobby");
    Client muted(server, Encoding::binary);
    muted.hello_guest("Loud");
    muted.join("lobby");
    Client other(server, Encoding::json);
    other.hello_guest("Quiet");
    other.join("lobby");
    other.join("anxiety-support");
    muted.join("anxiety-support");

    CHECK(refused(moderator, Mod("lobby", v1::MUTE).member(muted.member_id()).duration(60)) ==
          v1::BAD_REQUEST);  // a reason is required
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    acked(moderator,
          Mod("lobby", v1::MUTE).member(muted.member_id()).duration(60).reason("cool down"));
    for (Client* member : {&other, &muted}) {
        const v1::Event event =
            expect_private(*member, event_of("lobby", v1::Event::kMemberMuted), "member_muted")
                .event();
        CHECK(event.member_muted().member().member_id() == muted.member_id());
        CHECK(event.member_muted().member().handle() == "Loud");
        CHECK(event.member_muted().by().handle() == "Mo");
        // The reason is for the person concerned only (an Alert), not for the room.
        CHECK(event.member_muted().reason().empty());
        CHECK(event.member_muted().until_ms() >= static_cast<std::uint64_t>(before) + 59'000);
    }
    {
        const auto alert = muted.next(
            [](const v1::ServerMessage& m) {
                return m.has_alert() && m.alert().kind() == v1::Alert::MUTED;
            },
            kDefaultWait);
        REQUIRE(alert.has_value());
        CHECK(alert->alert().message() == "cool down");
        CHECK_FALSE(other
                        .next([](const v1::ServerMessage& m) { return m.has_alert(); },
                              std::chrono::milliseconds(200))
                        .has_value());
    }
    {
        const v1::Error error = error_of(muted, msg_post("lobby", "let me talk"));
        CHECK(error.code() == v1::MUTED);
        CHECK(error.retry_after_ms() > 0);
        CHECK(error.retry_after_ms() <= 60'000);
    }
    // Per room: the other room is unaffected; and others still post.
    muted.post("anxiety-support", "fine here");
    other.post("lobby", "I can still post");
    CHECK_FALSE(other.next(posted_text("lobby", "let me talk"), 100ms).has_value());

    acked(moderator, Mod("lobby", v1::UNMUTE).member(muted.member_id()));
    const v1::Event unmuted =
        expect_private(other, event_of("lobby", v1::Event::kMemberUnmuted), "member_unmuted")
            .event();
    CHECK(unmuted.member_unmuted().member().member_id() == muted.member_id());
    CHECK(unmuted.member_unmuted().by().handle() == "Mo");
    muted.post("lobby", "thank you");
    expect_private(other, posted_text("lobby", "thank you"), "the unmuted post");

    // Muted until unmuted: retry_after_ms 0.
    acked(moderator, Mod("lobby", v1::MUTE).member(muted.member_id()).reason("again"));
    CHECK(refused(muted, msg_post("lobby", "hello?")) == v1::MUTED);
    acked(moderator, Mod("lobby", v1::UNMUTE).member(muted.member_id()));

    // A one-second mute ends by itself.
    acked(moderator,
          Mod("lobby", v1::MUTE).member(muted.member_id()).duration(1).reason("brief pause"));
    {
        const v1::Error error = error_of(muted, msg_post("lobby", "too soon"));
        CHECK(error.code() == v1::MUTED);
        CHECK(error.retry_after_ms() > 0);
        CHECK(error.retry_after_ms() <= 1000);
    }
    int attempts = 0;
    const bool expired = eventually(
        [&] {
            ++attempts;
            const v1::ServerMessage reply = muted.reply(
                muted.send(msg_post("lobby", "back again " + std::to_string(attempts))));
            if (reply.has_error()) CHECK(reply.error().code() == v1::MUTED);
            return reply.has_ack();
        },
        3s, 100ms);
    CHECK(expired);
}

// ---- 5. kick -------------------------------------------------------------------------------

TEST_CASE("moderation: a kicked member gets Left{kicked}, others see it, and they may return") {
    ServerProcess server(options_with());
    require_started(server);

    Client moderator =
        signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"), "lobby");
    Client kicked(server, Encoding::binary);
    kicked.hello_guest("Rowdy");
    kicked.join("lobby");
    kicked.join("anxiety-support");
    Client other(server, Encoding::json);
    other.hello_guest("Calm");
    other.join("lobby");
    Client other_binary(server, Encoding::binary);
    other_binary.hello_guest("Calm Too");
    other_binary.join("lobby");

    acked(moderator, Mod("lobby", v1::KICK).member(kicked.member_id()).reason("flooding"));
    const v1::ServerMessage left = kicked.expect(left_with("lobby", "kicked"), "Left{kicked}");
    CHECK(left.request_id() == 0);
    for (Client* member : {&other, &other_binary}) {
        const v1::Event removed =
            expect_private(*member, event_of("lobby", v1::Event::kMemberRemoved), "member_removed")
                .event();
        CHECK(removed.member_removed().member().member_id() == kicked.member_id());
        CHECK(removed.member_removed().member().handle() == "Rowdy");
        CHECK_FALSE(removed.member_removed().banned());
        CHECK_FALSE(removed.member_removed().global());
        CHECK(removed.member_removed().reason().empty());  // told to the person only
        CHECK(removed.member_removed().by().handle() == "Mo");
        CHECK(removed.seq() > 0);
        expect_private(*member, member_left(kicked.member_id()), "member_left");
    }
    // No longer in the room (nothing more from it), still connected and in the other room.
    CHECK(refused(kicked, msg_post("lobby", "hey")) == v1::NOT_JOINED);
    other.post("lobby", "while you were out");
    expect_private(other_binary, posted_text("lobby", "while you were out"), "a later post");
    CHECK_FALSE(kicked.next(posted_text("lobby", "while you were out"), 200ms).has_value());
    kicked.post("anxiety-support", "still here");
    kicked.ping();

    const v1::Joined again = kicked.join("lobby");
    CHECK(std::any_of(again.members().begin(), again.members().end(),
                      [&](const v1::Member& m) { return m.member_id() == kicked.member_id(); }));
    kicked.post("lobby", "sorry about that");
    expect_private(other, posted_text("lobby", "sorry about that"), "the returning member's post");
}

// ---- 6. bans -------------------------------------------------------------------------------

TEST_CASE("moderation: a room ban closes the connection with 4003 and holds until unbanned") {
    ServerProcess server(options_with());
    require_started(server);

    Client moderator = signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"));
    Client observer(server, Encoding::binary);
    observer.hello_guest("Watcher");
    observer.join("lobby");

    SUBCASE("a signed-in person, by member id") {
        const std::string banned_token = token("sub-banned", "Trouble", "participant");
        Client banned = signed_in(server, Encoding::binary, banned_token, "lobby");
        acked(moderator, Mod("lobby", v1::BAN).member(banned.member_id()).reason("threats"));
        CHECK_CLOSE_CODE(banned, 4003, kDefaultWait);
        const v1::Event removed =
            expect_private(observer, event_of("lobby", v1::Event::kMemberRemoved), "member_removed")
                .event();
        CHECK(removed.member_removed().banned());
        CHECK_FALSE(removed.member_removed().global());
        CHECK(removed.member_removed().until_ms() == 0);
        CHECK(removed.member_removed().member().member_id() == banned.member_id());
        CHECK(removed.member_removed().reason().empty());  // told to the person only
        expect_private(observer, member_left(banned.member_id()), "member_left");

        // Same identity, new connection: signed in, but not into this room.
        Client back = signed_in(server, Encoding::json, banned_token);
        CHECK(refused(back, msg_join("lobby")) == v1::BANNED);
        back.join("anxiety-support");  // a room ban is for one room
        back.ping();

        acked(moderator, Mod("lobby", v1::UNBAN).subject("sub-banned").reason("apologised"));
        const v1::Event unbanned =
            expect_private(observer, event_of("lobby", v1::Event::kMemberUnbanned),
                           "member_unbanned")
                .event();
        CHECK_FALSE(unbanned.member_unbanned().global());
        CHECK(unbanned.member_unbanned().by().handle() == "Mo");
        back.join("lobby");
        back.post("lobby", "I'm back, sorry");
    }

    SUBCASE("a guest, resuming with the guest pass") {
        Client guest(server, Encoding::json);
        const v1::Welcome welcome = guest.hello_guest("Sneaky");
        guest.join("lobby");
        // The moderator learns the guest's subject from a moderation item.
        const v1::Ack post = guest.post("lobby", "buy my stuff");
        acked(observer, msg_flag("lobby", post.seq(), v1::FLAG_SPAM));
        const std::string subject =
            moderator.expect(item_of(v1::ModerationItem::FLAG, "lobby"), "the flag item")
                .moderation_item()
                .post()
                .author_subject();
        REQUIRE_FALSE(subject.empty());

        acked(moderator,
              Mod("lobby", v1::BAN).member(guest.member_id()).duration(3600).reason("spam"));
        CHECK_CLOSE_CODE(guest, 4003, kDefaultWait);
        const v1::Event removed =
            expect_private(observer, event_of("lobby", v1::Event::kMemberRemoved), "member_removed")
                .event();
        CHECK(removed.member_removed().banned());
        CHECK(removed.member_removed().until_ms() > 0);
        // The moderators see that the ban covers the guest's address too, never the address.
        CHECK(removed.member_removed().address_banned());
        CHECK(removed.member_removed().address_key().empty());

        Client back(server, Encoding::binary);
        const v1::Welcome resumed = back.hello_guest("", welcome.guest_token());
        CHECK(resumed.handle() == "Sneaky");
        CHECK(refused(back, msg_join("lobby")) == v1::BANNED);
        // Entering again as a new guest from the same address: still banned.
        Client fresh(server, Encoding::binary);
        fresh.hello_guest("Newcomer");
        CHECK(refused(fresh, msg_join("lobby")) == v1::BANNED);
        fresh.join("anxiety-support");  // a room ban is for one room
        CHECK(metric(server, "haven_refused_total{reason=\"banned_address\"}") == 1u);
        // Someone signed in is banned by who they are, never by the address they share.
        Client neighbour =
            signed_in(server, Encoding::json, token("sub-neighbour", "Neighbour", ""), "lobby");
        neighbour.ping();

        acked(moderator, Mod("lobby", v1::UNBAN).subject(subject));
        back.join("lobby");
        Client later(server, Encoding::binary);
        later.hello_guest("Later");
        later.join("lobby");  // the address ban went with the ban
    }
}

TEST_CASE("moderation: a global ban closes every connection of the person and refuses Hello") {
    ServerProcess server(options_with());
    require_started(server);

    Client moderator =
        signed_in(server, Encoding::binary, token("sub-mod", "Mo", "moderator"), "lobby");
    Client observer(server, Encoding::json);
    observer.hello_guest("Witness");
    observer.join("lobby");
    const std::string banned_token = token("sub-global", "Menace", "participant");
    Client first = signed_in(server, Encoding::json, banned_token, "lobby");
    Client second = signed_in(server, Encoding::binary, banned_token, "grief-and-loss");
    Client bystander = signed_in(server, Encoding::binary, token("sub-by", "By", ""), "lobby");

    acked(moderator, Mod("lobby", v1::BAN).member(first.member_id()).reason("harassment").global());
    CHECK_CLOSE_CODE(first, 4003, kDefaultWait);
    CHECK_CLOSE_CODE(second, 4003, kDefaultWait);  // not in the room, but the same person
    const v1::Event removed =
        expect_private(observer, event_of("lobby", v1::Event::kMemberRemoved), "member_removed")
            .event();
    CHECK(removed.member_removed().banned());
    CHECK(removed.member_removed().global());
    CHECK(removed.member_removed().member().member_id() == first.member_id());
    bystander.ping();  // others are untouched

    // Hello with the same token: BANNED, then 4003. (The ban reaches every shard
    // asynchronously, hence the retry for a connection that might race it.)
    std::optional<std::uint16_t> close_code;
    const bool refused_hello = eventually(
        [&] {
            Client again(server, Encoding::json);
            const v1::ServerMessage reply = again.reply(again.send(msg_hello_token(banned_token)));
            if (!reply.has_error()) return false;
            CHECK(reply.error().code() == v1::BANNED);
            close_code = again.wait_close();
            return true;
        },
        kDefaultWait, 20ms);
    CHECK(refused_hello);
    CHECK(close_code == std::optional<std::uint16_t>(4003));

    acked(moderator, Mod("lobby", v1::UNBAN).subject("sub-global").global());
    const bool welcomed = eventually(
        [&] {
            Client again(server, Encoding::binary);
            const v1::ServerMessage reply = again.reply(again.send(msg_hello_token(banned_token)));
            if (!reply.has_welcome()) return false;
            again.join("lobby");
            return true;
        },
        kDefaultWait, 20ms);
    CHECK(welcomed);
}

// ---- 7. lock and slow mode -----------------------------------------------------------------

TEST_CASE("moderation: a locked room takes posts only from moderators") {
    ServerProcess server(options_with());
    require_started(server);

    Client room_mod = signed_in(server, Encoding::binary,
                                token("sub-rm", "Romy", "", R"({"lobby":"moderator"})"), "lobby");
    Client participant(server, Encoding::json);
    participant.hello_guest("Par");
    participant.join("lobby");
    participant.join("anxiety-support");
    Client supporter =
        signed_in(server, Encoding::binary, token("sub-peer", "Peer", "peer_supporter"), "lobby");

    acked(room_mod, Mod("lobby", v1::LOCK_ROOM).reason("taking a breath"));
    for (Client* member : {&participant, &supporter}) {
        const v1::Event event =
            expect_private(*member, event_of("lobby", v1::Event::kRoomLock), "room_lock").event();
        CHECK(event.room_lock().locked());
        CHECK(event.room_lock().by().handle() == "Romy");
        CHECK(event.room_lock().by().role() == v1::ROLE_MODERATOR);
    }
    CHECK(refused(participant, msg_post("lobby", "hello?")) == v1::ROOM_LOCKED);
    CHECK(refused(supporter, msg_post("lobby", "hello?")) == v1::ROOM_LOCKED);
    participant.post("anxiety-support", "other rooms are open");
    room_mod.post("lobby", "we'll reopen in a moment");
    expect_private(participant, posted_text("lobby", "we'll reopen in a moment"),
                   "the moderator's post");

    acked(room_mod, Mod("lobby", v1::UNLOCK_ROOM));
    CHECK_FALSE(expect_private(participant, event_of("lobby", v1::Event::kRoomLock), "unlock")
                    .event()
                    .room_lock()
                    .locked());
    participant.post("lobby", "thanks");
    supporter.post("lobby", "welcome back");
}

TEST_CASE("moderation: slow mode spaces out participants' posts, not peer supporters'") {
    ServerProcess server(options_with());
    require_started(server);

    Client moderator = signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"));
    Client participant(server, Encoding::binary);
    participant.hello_guest("Par");
    participant.join("lobby");
    Client supporter =
        signed_in(server, Encoding::json, token("sub-peer", "Peer", "peer_supporter"), "lobby");

    acked(moderator, Mod("lobby", v1::SET_SLOW_MODE).slow(2));
    for (Client* member : {&participant, &supporter}) {
        const v1::Event event =
            expect_private(*member, event_of("lobby", v1::Event::kSlowMode), "slow_mode").event();
        CHECK(event.slow_mode().seconds() == 2);
        CHECK(event.slow_mode().by().handle() == "Mo");
    }
    participant.post("lobby", "one");
    const v1::Error wait = error_of(participant, msg_post("lobby", "two"));
    CHECK(wait.code() == v1::SLOW_MODE_WAIT);
    CHECK(wait.retry_after_ms() > 0);
    CHECK(wait.retry_after_ms() <= 2000);
    for (int i = 0; i < 3; ++i) supporter.post("lobby", "supporter " + std::to_string(i));

    acked(moderator, Mod("lobby", v1::SET_SLOW_MODE).slow(0));
    CHECK(expect_private(
              participant,
              [](const v1::ServerMessage& m) {
                  return event_of("lobby", v1::Event::kSlowMode)(m) &&
                         m.event().slow_mode().seconds() == 0;
              },
              "slow mode off")
              .event()
              .slow_mode()
              .seconds() == 0);
    participant.post("lobby", "three");
    participant.post("lobby", "four");
}

// ---- 8. crisis language --------------------------------------------------------------------

TEST_CASE("moderation: crisis language brings resources first and an urgent item (deliver room)") {
    ServerProcess server(options_with(crisis_toml()));
    require_started(server);

    Client moderator = signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"));
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client author(server, encoding);
        author.hello_guest("Struggling");
        author.join("lobby");
        Client other(server, encoding == Encoding::json ? Encoding::binary : Encoding::json);
        other.hello_guest();
        other.join("lobby");

        const std::string text = "Honestly some nights I just want to end it all.";
        author.inbox().clear();
        const v1::ServerMessage reply = author.reply(author.send(msg_post("lobby", text, "c1")));
        REQUIRE(reply.has_ack());
        CHECK(reply.ack().seq() > 0);
        CHECK(reply.ack().hold_id().empty());
        // The resources arrived before the Ack (everything read before it is in the inbox).
        const auto alert_it = std::find_if(author.inbox().begin(), author.inbox().end(),
                                           alert_of(v1::Alert::CRISIS_RESOURCES));
        REQUIRE_MESSAGE(alert_it != author.inbox().end(), "no crisis Alert before the Ack");
        const v1::Alert alert = alert_it->alert();
        CHECK(alert_it->request_id() == 0);
        CHECK(alert.room_id() == "lobby");
        CHECK(alert.locale() == "en");
        CHECK_FALSE(alert.message().empty());
        REQUIRE(alert.resources_size() > 0);
        for (const auto& resource : alert.resources()) {
            CHECK_FALSE(resource.name().empty());
            CHECK(
                (!resource.phone().empty() || !resource.url().empty() || !resource.text().empty()));
        }
        CHECK(std::any_of(alert.resources().begin(), alert.resources().end(),
                          [](const v1::CrisisResource& r) { return !r.phone().empty(); }));

        const v1::Event delivered =
            expect_private(other, posted_text("lobby", text), "the crisis post").event();
        CHECK(delivered.seq() == reply.ack().seq());
        CHECK_FALSE(other.next(alert_of(v1::Alert::CRISIS_RESOURCES), 100ms).has_value());

        const v1::ModerationItem item =
            moderator
                .expect(
                    [&](const v1::ServerMessage& m) {
                        return item_of(v1::ModerationItem::CRISIS, "lobby")(m) &&
                               m.moderation_item().seq() == reply.ack().seq();
                    },
                    "the crisis item")
                .moderation_item();
        CHECK(item.urgent());
        CHECK(item.post().text() == text);
        CHECK_FALSE(item.post().author_subject().empty());
        CHECK(item.matched() == "end it all");

        // Ordinary sadness is not a crisis.
        author.inbox().clear();
        const v1::Ack calm = author.post("lobby", "Today was hard but I went for a walk.");
        CHECK(calm.seq() > 0);
        CHECK(std::none_of(author.inbox().begin(), author.inbox().end(),
                           alert_of(v1::Alert::CRISIS_RESOURCES)));
    }
    CHECK_FALSE(moderator.next(item_of(v1::ModerationItem::CRISIS, "lobby"), kQuiet).has_value());
}

TEST_CASE("moderation: crisis language in a hold room waits for a moderator") {
    ServerProcess server(options_with(crisis_toml()));
    require_started(server);

    Client moderator = signed_in(server, Encoding::binary, token("sub-mod", "Mo", "moderator"));
    Client author(server, Encoding::json);
    author.hello_guest("Hurting");
    author.join("evening-circle");
    Client other(server, Encoding::binary);
    other.hello_guest("Listener");
    other.join("evening-circle");

    const auto hold = [&](const std::string& text, const std::string& id) {
        author.inbox().clear();
        const v1::ServerMessage reply =
            author.reply(author.send(msg_post("evening-circle", text, id)));
        INFO("reply: " << describe(reply));
        REQUIRE(reply.has_ack());
        CHECK(reply.ack().seq() == 0);
        CHECK(reply.ack().client_msg_id() == id);
        CHECK(reply.ack().room_id() == "evening-circle");
        REQUIRE_FALSE(reply.ack().hold_id().empty());
        // Resources, then "held", then the Ack.
        auto& inbox = author.inbox();
        const auto resources =
            std::find_if(inbox.begin(), inbox.end(), alert_of(v1::Alert::CRISIS_RESOURCES));
        const auto held = std::find_if(inbox.begin(), inbox.end(), alert_of(v1::Alert::POST_HELD));
        REQUIRE(resources != inbox.end());
        REQUIRE(held != inbox.end());
        CHECK(resources < held);
        CHECK(resources->alert().resources_size() > 0);
        CHECK(held->alert().room_id() == "evening-circle");
        const v1::ModerationItem item =
            moderator
                .expect(
                    [&](const v1::ServerMessage& m) {
                        return item_of(v1::ModerationItem::HELD_POST, "evening-circle")(m) &&
                               m.moderation_item().hold_id() == reply.ack().hold_id();
                    },
                    "the held-post item")
                .moderation_item();
        CHECK(item.urgent());
        CHECK(item.seq() == 0);
        CHECK(item.post().text() == text);
        CHECK_FALSE(item.matched().empty());
        return reply.ack().hold_id();
    };

    const std::string first = hold("I keep thinking about suicide", "h1");
    const std::string second = hold("I want to hurt myself tonight", "h2");
    // Nobody else sees held posts.
    for (const auto& message : other.collect(kQuiet)) {
        check_private(message);
        CHECK_FALSE(message.has_alert());
        CHECK_FALSE((message.has_event() && message.event().has_posted()));
    }

    const v1::Ack released = acked(moderator, Mod("evening-circle", v1::RELEASE_POST).hold(first));
    CHECK(released.seq() > 0);
    for (Client* member : {&other, &author}) {
        const v1::Event event =
            expect_private(*member, posted_text("evening-circle", "I keep thinking about suicide"),
                           "the released post")
                .event();
        CHECK(event.seq() == released.seq());
        CHECK(event.posted().released());
        CHECK(event.posted().author().handle() == "Hurting");
        CHECK(event.posted().client_msg_id() == "h1");
    }
    CHECK(refused(moderator, Mod("evening-circle", v1::RELEASE_POST).hold(first)) == v1::NOT_FOUND);

    const v1::Ack rejected = acked(moderator, Mod("evening-circle", v1::REJECT_POST).hold(second));
    CHECK(rejected.seq() == 0);
    // The author hears of it, privately.
    const auto told = author.next(
        [](const v1::ServerMessage& m) {
            return m.has_alert() && m.alert().kind() == v1::Alert::POST_REJECTED;
        },
        kDefaultWait);
    REQUIRE(told.has_value());
    CHECK(told->alert().room_id() == "evening-circle");
    CHECK(refused(moderator, Mod("evening-circle", v1::RELEASE_POST).hold(second)) ==
          v1::NOT_FOUND);
    CHECK(refused(moderator, Mod("evening-circle", v1::REJECT_POST).hold(second)) == v1::NOT_FOUND);
    CHECK_FALSE(other.next(posted_text("evening-circle", "I want to hurt myself tonight"), kQuiet)
                    .has_value());

    // Not a crisis: delivered as usual.
    author.inbox().clear();
    const v1::Ack calm = author.post("evening-circle", "I made soup and called my sister.");
    CHECK(calm.seq() == released.seq() + 1);
    CHECK(calm.hold_id().empty());
    CHECK(std::none_of(author.inbox().begin(), author.inbox().end(),
                       [](const v1::ServerMessage& m) { return m.has_alert(); }));
    CHECK_FALSE(expect_private(other,
                               posted_text("evening-circle", "I made soup and called my sister."),
                               "the ordinary post")
                    .event()
                    .posted()
                    .released());
}

// ---- 9. redaction --------------------------------------------------------------------------

TEST_CASE("moderation: contact details are redacted before delivery and never logged") {
    ServerOptions options = options_with("[moderation]\nredact_contact_details = true\n");
    options.log_level = "debug";
    ServerProcess server(options);
    require_started(server);

    Client author(server, Encoding::binary);
    author.hello_guest("Sharer");
    author.join("lobby");
    Client reader(server, Encoding::json);
    reader.hello_guest("Reader");
    reader.join("lobby");

    const std::string email = "sam.rivers@example.org";
    const std::string phone = "+44 7700 900123";
    const v1::Ack ack =
        author.post("lobby", "Write to me at " + email + " or call " + phone + " tonight", "r1");
    for (Client* member : {&reader, &author}) {
        const v1::Event event =
            expect_private(*member, posted_with_id("r1"), "the redacted post").event();
        CHECK(event.seq() == ack.seq());
        const std::string& text = event.posted().text();
        CAPTURE(text);
        CHECK(event.posted().redacted());
        CHECK(text.find(email) == std::string::npos);
        CHECK(text.find("sam.rivers") == std::string::npos);
        CHECK(text.find("900123") == std::string::npos);
        CHECK(text.find("[email removed]") != std::string::npos);
        CHECK(text.find("[phone removed]") != std::string::npos);
        CHECK(text.rfind("Write to me at ", 0) == 0);
    }
    // Stored redacted too.
    Client later(server, Encoding::binary);
    later.hello_guest();
    const v1::Joined joined = later.join("lobby");
    REQUIRE(joined.events_size() == 1);
    CHECK(joined.events(0).posted().redacted());
    CHECK(joined.events(0).posted().text().find("sam.rivers") == std::string::npos);

    // Nothing to remove: untouched, not marked.
    author.post("lobby", "Call the 988 line if you need to, it's open 24/7.", "r2");
    const v1::Event plain = expect_private(reader, posted_with_id("r2"), "the plain post").event();
    CHECK_FALSE(plain.posted().redacted());
    CHECK(plain.posted().text() == "Call the 988 line if you need to, it's open 24/7.");

    const std::string log = server.log();
    CHECK(log.find("sam.rivers") == std::string::npos);
    CHECK(log.find("example.org") == std::string::npos);
    CHECK(log.find("900123") == std::string::npos);
    CHECK(log.find("Write to me") == std::string::npos);
}

// ---- 10. audit -----------------------------------------------------------------------------

TEST_CASE("moderation: the audit log pages newest first and survives a restart") {
    TempDir dir;
    const std::string audit_path = (dir.path() / "audit" / "audit.jsonl").string();
    const std::string toml = "[moderation]\naudit_file = \"" + audit_path + "\"\n";
    const std::string mod_token = token("sub-alice", "Alice Mod", "moderator");
    const std::string room_mod_token = token("sub-rita", "Rita", "", R"({"lobby":"moderator"})");

    std::vector<v1::AuditEntry> before_restart;
    {
        ServerProcess server(options_with(toml));
        require_started(server);
        Client moderator = signed_in(server, Encoding::json, mod_token);
        Client room_mod = signed_in(server, Encoding::binary, room_mod_token);
        Client pat(server, Encoding::binary);
        pat.hello_guest("Pat");
        pat.join("lobby");
        CHECK(audit_page(moderator, "").entries_size() == 0);

        acked(moderator, Mod("lobby", v1::LOCK_ROOM).reason("heated"));
        acked(moderator, Mod("lobby", v1::SET_SLOW_MODE).slow(5).reason("pace"));
        acked(moderator, Mod("lobby", v1::KICK).member(pat.member_id()).reason("spam"));
        acked(room_mod, Mod("lobby", v1::UNLOCK_ROOM).reason("calmer"));
        acked(moderator, Mod("anxiety-support", v1::LOCK_ROOM).reason("maintenance"));

        const v1::AuditPage all = audit_with(moderator, "", 5);
        REQUIRE(all.entries_size() == 5);
        CHECK_FALSE(all.has_more());
        // Newest first, ids decreasing.
        for (int i = 1; i < all.entries_size(); ++i) {
            CHECK(std::stoull(all.entries(i - 1).id()) > std::stoull(all.entries(i).id()));
        }
        const auto& e = all.entries();
        CHECK(e[0].action() == "lock_room");
        CHECK(e[0].room_id() == "anxiety-support");
        CHECK(e[0].actor() == "Alice Mod");
        // A moderator sees a label per actor and room, never the actor's subject.
        CHECK(e[0].actor_subject().rfind("actor-", 0) == 0);
        CHECK(e[3].actor_subject() == e[4].actor_subject());  // Alice in the lobby, twice
        CHECK(e[0].actor_subject() != e[4].actor_subject());  // Alice, another room
        CHECK(e[1].actor_subject() != e[4].actor_subject());  // Rita, same room
        for (const auto& entry : all.entries()) {
            CHECK(entry.actor_subject().find("sub-") == std::string::npos);
        }
        // An operator sees subjects.
        Client operator_ = signed_in(server, Encoding::binary, token("sub-op", "Opal", "operator"));
        const v1::AuditPage as_operator = audit_with(operator_, "", 5);
        REQUIRE(as_operator.entries_size() == 5);
        CHECK(as_operator.entries(0).actor_subject() == "sub-alice");
        CHECK(as_operator.entries(1).actor_subject() == "sub-rita");
        CHECK(e[0].target() == "room");
        CHECK(e[0].reason() == "maintenance");
        CHECK(e[1].action() == "unlock_room");
        CHECK(e[1].actor() == "Rita");
        CHECK(e[1].room_id() == "lobby");
        CHECK(e[1].reason() == "calmer");
        CHECK(e[2].action() == "kick");
        CHECK(e[2].target().find("Pat") != std::string::npos);
        CHECK(e[2].reason() == "spam");
        CHECK(e[3].action() == "slow_mode");
        CHECK(e[3].target() == "5 s");
        CHECK(e[3].reason() == "pace");
        CHECK(e[4].action() == "lock_room");
        CHECK(e[4].room_id() == "lobby");
        CHECK(e[4].reason() == "heated");
        for (const auto& entry : e) CHECK(entry.time_ms() > 0);

        // Paging backwards with before_id.
        std::vector<std::string> paged;
        std::string before;
        for (int page_number = 0; page_number < 5; ++page_number) {
            const v1::AuditPage page = audit_page(moderator, "", before, 2);
            for (const auto& entry : page.entries()) paged.push_back(entry.id());
            if (!page.has_more()) break;
            REQUIRE(page.entries_size() == 2);
            before = page.entries(1).id();
        }
        std::vector<std::string> expected;
        for (const auto& entry : e) expected.push_back(entry.id());
        CHECK(paged == expected);

        // A room moderator reads their room's log only.
        const v1::AuditPage lobby = audit_page(room_mod, "lobby");
        REQUIRE(lobby.entries_size() == 4);
        for (const auto& entry : lobby.entries()) CHECK(entry.room_id() == "lobby");
        CHECK(lobby.entries(0).id() == e[1].id());
        CHECK(refused(room_mod, msg_audit("anxiety-support")) == v1::FORBIDDEN);
        before_restart.assign(e.begin(), e.end());

        // SIGINT: no drain grace period to wait through.
        REQUIRE(server.stop(SIGINT) == std::optional<int>(0));
    }

    ServerProcess restarted(options_with(toml));
    require_started(restarted);
    Client moderator = signed_in(restarted, Encoding::binary, mod_token);
    const v1::AuditPage kept = audit_page(moderator, "");
    REQUIRE(kept.entries_size() == static_cast<int>(before_restart.size()));
    for (int i = 0; i < kept.entries_size(); ++i) {
        CHECK(kept.entries(i).id() == before_restart[i].id());
        CHECK(kept.entries(i).action() == before_restart[i].action());
        CHECK(kept.entries(i).actor() == before_restart[i].actor());
        CHECK(kept.entries(i).room_id() == before_restart[i].room_id());
        CHECK(kept.entries(i).target() == before_restart[i].target());
        CHECK(kept.entries(i).reason() == before_restart[i].reason());
    }
    acked(moderator, Mod("anxiety-support", v1::UNLOCK_ROOM).reason("done"));
    const v1::AuditPage grown = audit_with(moderator, "", 6);
    CHECK(grown.entries(0).action() == "unlock_room");
    CHECK(std::stoull(grown.entries(0).id()) > std::stoull(before_restart.front().id()));
    const v1::AuditPage older = audit_page(moderator, "", grown.entries(0).id(), 1);
    REQUIRE(older.entries_size() == 1);
    CHECK(older.entries(0).id() == before_restart.front().id());
    CHECK(older.has_more());
}

// ---- 11. moderation queue ------------------------------------------------------------------

TEST_CASE("moderation: the queue lists open items until they are dealt with") {
    ServerProcess server(options_with(crisis_toml()));
    require_started(server);

    Client moderator = signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"));
    Client room_mod = signed_in(server, Encoding::binary,
                                token("sub-rm", "Romy", "", R"({"lobby":"moderator"})"));
    Client author(server, Encoding::binary);
    author.hello_guest("Author");
    author.join("lobby");
    author.join("evening-circle");
    Client flagger(server, Encoding::json);
    flagger.hello_guest("Flagger");
    flagger.join("lobby");

    CHECK(queue_of(moderator).items_size() == 0);

    const std::uint64_t flagged = author.post("lobby", "rude words").seq();
    acked(flagger, msg_flag("lobby", flagged, v1::FLAG_HARASSMENT));
    moderator.expect(item_of(v1::ModerationItem::FLAG, "lobby"), "the flag item");
    const v1::Ack held = author.post("evening-circle", "I want to die");
    REQUIRE_FALSE(held.hold_id().empty());
    moderator.expect(item_of(v1::ModerationItem::HELD_POST, "evening-circle"), "the held item");

    const std::string flag_id = "flag:lobby:" + std::to_string(flagged);
    const std::string held_id = "held:" + held.hold_id();
    const v1::ModerationQueue open = queue_of(moderator);
    CHECK(item_ids(open) == std::set<std::string>{flag_id, held_id});
    for (const auto& item : open.items()) {
        if (item.id() == flag_id) {
            CHECK(item.kind() == v1::ModerationItem::FLAG);
            CHECK(item.flag_count() == 1);
            CHECK(item.post().text() == "rude words");
        } else {
            CHECK(item.kind() == v1::ModerationItem::HELD_POST);
            CHECK(item.hold_id() == held.hold_id());
        }
    }
    // A room moderator's queue holds their room's items only.
    CHECK(item_ids(queue_of(room_mod)) == std::set<std::string>{flag_id});

    // Hiding the post resolves its flag, live and in the queue.
    acked(room_mod, Mod("lobby", v1::HIDE_POST).seq(flagged));
    const v1::ModerationItem resolved =
        moderator
            .expect(
                [&](const v1::ServerMessage& m) {
                    return item_of(v1::ModerationItem::RESOLVED, "lobby")(m) &&
                           m.moderation_item().id() == flag_id;
                },
                "the resolved flag")
            .moderation_item();
    CHECK(resolved.seq() == flagged);
    CHECK(item_ids(queue_of(moderator)) == std::set<std::string>{held_id});
    CHECK(queue_of(room_mod).items_size() == 0);

    // Releasing the held post resolves it.
    acked(moderator, Mod("evening-circle", v1::RELEASE_POST).hold(held.hold_id()));
    moderator.expect(
        [&](const v1::ServerMessage& m) {
            return item_of(v1::ModerationItem::RESOLVED, "evening-circle")(m) &&
                   m.moderation_item().id() == held_id;
        },
        "the resolved held post");
    CHECK(queue_of(moderator).items_size() == 0);

    // RESOLVE_FLAGS closes the flags without hiding the post.
    const std::uint64_t second = author.post("lobby", "borderline").seq();
    acked(flagger, msg_flag("lobby", second, v1::FLAG_OTHER));
    moderator.expect(
        [&](const v1::ServerMessage& m) {
            return item_of(v1::ModerationItem::FLAG, "lobby")(m) &&
                   m.moderation_item().seq() == second;
        },
        "the second flag item");
    CHECK(queue_of(moderator).items_size() == 1);
    acked(room_mod, Mod("lobby", v1::RESOLVE_FLAGS).seq(second).reason("fine"));
    CHECK(eventually([&] { return queue_of(moderator).items_size() == 0; }, 1s, 20ms));
    Client newcomer(server, Encoding::binary);
    newcomer.hello_guest();
    const v1::Joined joined = newcomer.join("lobby");
    CHECK(has_posted_seq(joined.events(), second));
    CHECK_FALSE(has_posted_seq(joined.events(), flagged));
}

// ---- 12. privacy ---------------------------------------------------------------------------

TEST_CASE("moderation: participants never receive anyone's subject") {
    ServerProcess server(options_with(crisis_toml("flag_threshold = 2\n")));
    require_started(server);

    const std::string tango_subject = "subject-tango-31415";
    const std::string victor_subject = "subject-victor-27182";
    const std::string mod_subject = "subject-mod-16180";
    const std::vector<std::string> secrets = {tango_subject, victor_subject, mod_subject};
    const std::string tango_token = token(tango_subject, "Tango", "participant");
    const std::string victor_token = token(victor_subject, "Victor", "participant");

    Client moderator =
        signed_in(server, Encoding::json, token(mod_subject, "Mo", "moderator"), "lobby");
    moderator.join("evening-circle");
    Client watch_binary(server, Encoding::binary);
    watch_binary.hello_guest("Watcher B");
    Client watch_json(server, Encoding::json);
    watch_json.hello_guest("Watcher J");
    for (Client* watcher : {&watch_binary, &watch_json}) {
        watcher->join("lobby");
        watcher->join("evening-circle");
    }
    Client tango = signed_in(server, Encoding::binary, tango_token, "lobby");
    tango.join("evening-circle");
    Client victor = signed_in(server, Encoding::json, victor_token, "lobby");

    // A post, auto-hidden by two flags, restored.
    const std::uint64_t seq = tango.post("lobby", "tango says hi").seq();
    acked(watch_binary, msg_flag("lobby", seq, v1::FLAG_SPAM));
    acked(watch_json, msg_flag("lobby", seq, v1::FLAG_SPAM));
    moderator.expect(item_of(v1::ModerationItem::AUTO_HIDDEN, "lobby"), "auto hidden");
    acked(moderator, Mod("lobby", v1::RESTORE_POST).seq(seq));
    // Mute and unmute, kick (and return), ban and unban.
    acked(moderator, Mod("lobby", v1::MUTE).member(tango.member_id()).duration(60).reason("r"));
    acked(moderator, Mod("lobby", v1::UNMUTE).member(tango.member_id()));
    acked(moderator, Mod("lobby", v1::KICK).member(tango.member_id()).reason("r"));
    tango.expect(left_with("lobby", "kicked"), "Left{kicked}");
    tango.join("lobby");
    acked(moderator, Mod("lobby", v1::BAN).member(victor.member_id()).reason("r"));
    CHECK_CLOSE_CODE(victor, 4003, kDefaultWait);
    acked(moderator, Mod("lobby", v1::UNBAN).subject(victor_subject));
    // A held post, released.
    const v1::Ack held = tango.post("evening-circle", "I want to kill myself");
    REQUIRE_FALSE(held.hold_id().empty());
    acked(moderator, Mod("evening-circle", v1::RELEASE_POST).hold(held.hold_id()));
    // A global ban and its end.
    acked(moderator, Mod("lobby", v1::BAN).member(tango.member_id()).reason("r").global());
    CHECK_CLOSE_CODE(tango, 4003, kDefaultWait);
    acked(moderator, Mod("lobby", v1::UNBAN).subject(tango_subject).global());
    moderator.post("lobby", "end of the show", "marker");

    for (Client* watcher : {&watch_binary, &watch_json}) {
        CAPTURE_ENCODING(watcher->encoding());
        const std::vector<v1::ServerMessage> seen =
            read_raw_until(*watcher, posted_with_id("marker"), secrets);
        std::set<v1::Event::KindCase> kinds;
        for (const auto& message : seen) {
            check_private(message);
            if (message.has_event()) kinds.insert(message.event().kind_case());
        }
        for (const auto kind :
             {v1::Event::kPosted, v1::Event::kPostHidden, v1::Event::kPostRestored,
              v1::Event::kMemberMuted, v1::Event::kMemberUnmuted, v1::Event::kMemberRemoved,
              v1::Event::kMemberUnbanned}) {
            CAPTURE(static_cast<int>(kind));
            CHECK(kinds.count(kind) == 1);
        }
    }

    // Control: the moderator, who may act on people, did receive their subjects.
    bool moderator_saw_subject = false;
    for (const auto& message : read_raw_until(moderator, posted_with_id("marker"), {})) {
        if (message.has_moderation_item() &&
            message.moderation_item().post().author_subject() == tango_subject) {
            moderator_saw_subject = true;
        }
    }
    CHECK(moderator_saw_subject);

    // Someone arriving later reads all of it from the room's history.
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client later(server, encoding);
        later.hello_guest();
        for (const char* room : {"lobby", "evening-circle"}) {
            const std::uint64_t join_id = later.send(msg_join(room));
            const auto joined = read_raw_until(later, reply_to(join_id), secrets);
            for (const auto& message : joined) check_private(message);
            const std::uint64_t history_id = later.send(msg_history(room, 0, 0, 100));
            const auto history = read_raw_until(later, reply_to(history_id), secrets);
            for (const auto& message : history) check_private(message);
            REQUIRE(history.back().has_history());
            CHECK(history.back().history().events_size() > 0);
        }
    }
}

// ---- promises of the documented contract at the edges of moderation -----------------------

// config.hpp (CrisisPolicy) and haven.toml: "Either way the author always privately gets the
// crisis resources at once." A post refused by a lock, a mute or slow mode is never scanned.
TEST_CASE("moderation: crisis resources reach a person whose post is refused") {
    ServerProcess server(options_with(crisis_toml()));
    require_started(server);
    Client moderator =
        signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"), "lobby");
    Client person(server, Encoding::binary);
    person.hello_guest("Alone Tonight");
    person.join("lobby");

    acked(moderator, Mod("lobby", v1::LOCK_ROOM));
    person.inbox().clear();
    CHECK(refused(person, msg_post("lobby", "I want to kill myself")) == v1::ROOM_LOCKED);
    CHECK(person.next(alert_of(v1::Alert::CRISIS_RESOURCES), kQuiet).has_value());
    acked(moderator, Mod("lobby", v1::UNLOCK_ROOM));

    acked(moderator, Mod("lobby", v1::MUTE).member(person.member_id()).reason("flooding"));
    person.inbox().clear();
    CHECK(refused(person, msg_post("lobby", "nothing to live for")) == v1::MUTED);
    CHECK(person.next(alert_of(v1::Alert::CRISIS_RESOURCES), kQuiet).has_value());
}

// redactor.hpp: phones_to_keep is "meant for the crisis lines in config/crisis, which
// moderators must always be able to share"; the hub never passes them.
TEST_CASE("moderation: crisis-line numbers are not redacted") {
    ServerProcess server(options_with(crisis_toml("redact_contact_details = true\n")));
    require_started(server);
    Client supporter =
        signed_in(server, Encoding::json, token("sub-peer", "Peer", "peer_supporter"), "lobby");
    const std::string text = "TelefonSeelsorge: 0800 111 0 111, or the Esperanza line 717 003 717";
    supporter.post("lobby", text, "lines");
    const v1::Event event = supporter.expect(posted_with_id("lines"), "the post").event();
    CHECK(event.posted().text() == text);
    CHECK_FALSE(event.posted().redacted());
}

// haven.proto, Post.client_msg_id: "a retried post with the same id is acknowledged with the
// original sequence number and never delivered twice". A retried held post is held again.
TEST_CASE("moderation: a retried held post is recognised as the same post") {
    ServerProcess server(options_with(crisis_toml()));
    require_started(server);
    Client moderator = signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"));
    Client author(server, Encoding::binary);
    author.hello_guest("Hurting");
    author.join("evening-circle");
    Client other(server, Encoding::json);
    other.hello_guest("Listener");
    other.join("evening-circle");

    const v1::Ack first = author.post("evening-circle", "I want to die", "retry-me");
    const v1::Ack retry = author.post("evening-circle", "I want to die", "retry-me");
    CHECK(retry.hold_id() == first.hold_id());
    CHECK(retry.duplicate());
    std::set<std::string> holds;
    for (const auto& message : moderator.collect(kQuiet)) {
        if (message.has_moderation_item() &&
            message.moderation_item().kind() == v1::ModerationItem::HELD_POST) {
            holds.insert(message.moderation_item().hold_id());
        }
    }
    CHECK(holds.size() == 1);
    for (const std::string& hold : holds) {
        acked(moderator, Mod("evening-circle", v1::RELEASE_POST).hold(hold));
    }
    moderator.join("evening-circle");
    moderator.post("evening-circle", "marker", "marker");
    const auto seen = other.collect(kQuiet);
    CHECK(std::count_if(seen.begin(), seen.end(), posted_with_id("retry-me")) == 1);
}

// Same contract: a retry of a post that was stored is acknowledged with its seq; slow mode
// and mutes are checked before the retry is recognised, so the client is told it failed.
TEST_CASE("moderation: a retried stored post is acknowledged under slow mode or a mute") {
    ServerProcess server(options_with());
    require_started(server);
    Client moderator = signed_in(server, Encoding::json, token("sub-mod", "Mo", "moderator"));
    Client author(server, Encoding::binary);
    author.hello_guest("Retrier");
    author.join("lobby");

    acked(moderator, Mod("lobby", v1::SET_SLOW_MODE).slow(5));
    const v1::Ack stored = author.post("lobby", "did this arrive?", "once");
    {
        const v1::ServerMessage reply =
            author.reply(author.send(msg_post("lobby", "did this arrive?", "once")));
        INFO("retry under slow mode: " << describe(reply));
        CHECK(reply.has_ack());
        CHECK(reply.ack().seq() == stored.seq());
        CHECK(reply.ack().duplicate());
    }
    acked(moderator, Mod("lobby", v1::SET_SLOW_MODE).slow(0));
    acked(moderator, Mod("lobby", v1::MUTE).member(author.member_id()).reason("pause"));
    {
        const v1::ServerMessage reply =
            author.reply(author.send(msg_post("lobby", "did this arrive?", "once")));
        INFO("retry while muted: " << describe(reply));
        CHECK(reply.has_ack());
        CHECK(reply.ack().seq() == stored.seq());
    }
}

// haven.proto, AuditRequest.room_id: "empty = every room (global moderators only)".
TEST_CASE("moderation: an audit request without a room is for global moderators only") {
    ServerProcess server(options_with());
    require_started(server);
    Client room_mod = signed_in(server, Encoding::binary,
                                token("sub-rm", "Romy", "", R"({"lobby":"moderator"})"));
    Client global_mod = signed_in(server, Encoding::json, token("sub-g", "Gil", "moderator"));
    acked(room_mod, Mod("lobby", v1::LOCK_ROOM).reason("mine"));
    acked(global_mod, Mod("anxiety-support", v1::LOCK_ROOM).reason("not theirs"));
    audit_with(global_mod, "", 2);
    CHECK(room_mod.error_reply(room_mod.send(msg_audit(""))) == v1::FORBIDDEN);
    const v1::ServerMessage reply = room_mod.reply(room_mod.send(msg_audit("lobby")));
    INFO("reply: " << describe(reply));
    REQUIRE(reply.has_audit());
    REQUIRE(reply.audit().entries_size() == 1);
    CHECK(reply.audit().entries(0).room_id() == "lobby");
}

}  // namespace
}  // namespace haven::test
