// Rank holds on every path that names a person: nobody mutes, kicks or bans someone of their
// own role or higher, whether they name them by member id or by subject, in a room or
// everywhere, while the person is online, offline, or on another instance; a person whose role
// is not known can be acted on by operators only; subjects in the audit log are for operators;
// and a ban holds against the admin API too.
#include <doctest/doctest.h>

#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"
#include "support/redis_process.hpp"
#include "support/token_factory.hpp"

#ifndef HAVEN_SOURCE_DIR
#error "HAVEN_SOURCE_DIR must name the source tree (for config/crisis)"
#endif

namespace haven::test {
namespace {

v1::ClientMessage moderate(v1::ModerationAction action, const std::string& subject,
                           bool global = false) {
    v1::ClientMessage message;
    v1::Moderate* m = message.mutable_moderate();
    m->set_room_id("lobby");
    m->set_action(action);
    m->set_subject(subject);
    m->set_reason("testing rank");
    m->set_duration_seconds(60);
    m->set_global(global);
    return message;
}

v1::ClientMessage moderate_member(v1::ModerationAction action, const std::string& member_id) {
    v1::ClientMessage message = moderate(action, "");
    message.mutable_moderate()->set_member_id(member_id);
    return message;
}

// The reply's error code, or UNSPECIFIED for an Ack.
v1::ErrorCode outcome(Client& client, const v1::ClientMessage& message) {
    const v1::ServerMessage reply = client.reply(client.send(message));
    INFO(describe(reply));
    if (reply.has_ack()) return v1::ERROR_UNSPECIFIED;
    REQUIRE(reply.has_error());
    return reply.error().code();
}

Client signed_in(const ServerProcess& server, const std::string& subject, const std::string& role,
                 const std::string& room = "lobby") {
    Client client(server, Encoding::binary);
    client.hello_token(make_token(subject, "Name " + subject, role, 600));
    if (!room.empty()) client.join(room);
    return client;
}

// A token with a room grant ({"lobby": "moderator"}) and no role of its own.
std::string room_moderator_token(const std::string& subject) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return make_hs256_token("{\"sub\":\"" + subject + "\",\"name\":\"Room Mod\",\"rooms\":" +
                                "{\"lobby\":\"moderator\"},\"exp\":" + std::to_string(now + 600) +
                                "}",
                            kJwtSecret);
}

// Signed in with a moderator grant for the lobby, and joined to it.
Client room_moderator(const ServerProcess& server, const std::string& subject) {
    Client client(server, Encoding::binary);
    client.hello_token(room_moderator_token(subject));
    client.join("lobby");
    return client;
}

const v1::ModerationAction kMemberActions[] = {v1::MUTE, v1::KICK, v1::BAN};

TEST_CASE(
    "rank: moderators cannot act on an operator or a moderator by subject, online or "
    "offline, in the room or everywhere") {
    ServerOptions options;
    options.toml = jwt_auth_toml();
    ServerProcess server(options);
    require_started(server);

    Client room_mod = room_moderator(server, "sub-rita");
    Client global_mod = signed_in(server, "sub-gil", "moderator");
    auto operator_ = std::make_unique<Client>(signed_in(server, "sub-op", "operator"));

    for (int online = 1; online >= 0; --online) {
        CAPTURE(online);
        if (!online) operator_.reset();  // gone: only the remembered role protects them
        for (Client* actor : {&room_mod, &global_mod}) {
            for (auto action : kMemberActions) {
                CAPTURE(action);
                CHECK(outcome(*actor, moderate(action, "sub-op")) == v1::FORBIDDEN);
            }
        }
        CHECK(outcome(global_mod, moderate(v1::BAN, "sub-op", true)) == v1::FORBIDDEN);
    }
    // Equal rank: a moderator on a moderator, either way round.
    CHECK(outcome(room_mod, moderate(v1::BAN, "sub-gil")) == v1::FORBIDDEN);
    CHECK(outcome(global_mod, moderate(v1::MUTE, "sub-rita")) == v1::FORBIDDEN);
    CHECK(outcome(global_mod, moderate(v1::BAN, "sub-rita", true)) == v1::FORBIDDEN);

    // The operator was never banned or muted: they come back and post.
    Client back = signed_in(server, "sub-op", "operator");
    back.post("lobby", "still here");

    // Below the actor: allowed, by subject and by member id.
    Client supporter = signed_in(server, "sub-peer", "peer_supporter");
    CHECK(outcome(room_mod, moderate(v1::MUTE, "sub-peer")) == v1::ERROR_UNSPECIFIED);
    CHECK(outcome(room_mod, moderate(v1::UNMUTE, "sub-peer")) == v1::ERROR_UNSPECIFIED);
    Client guest = guest_in(server, Encoding::binary, "lobby", "Guest");
    CHECK(outcome(global_mod, moderate_member(v1::KICK, guest.member_id())) ==
          v1::ERROR_UNSPECIFIED);
    // By member id an operator is just as protected.
    CHECK(outcome(global_mod, moderate_member(v1::KICK, back.member_id())) == v1::FORBIDDEN);
}

TEST_CASE("rank: a global ban weighs the actor's own role and the target's highest anywhere") {
    ServerOptions options;
    options.toml = jwt_auth_toml();
    ServerProcess server(options);
    require_started(server);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const auto granted = [&](const std::string& subject, const std::string& role,
                             const std::string& rooms) {
        Client client(server, Encoding::binary);
        client.hello_token(make_hs256_token(
            "{\"sub\":\"" + subject + "\",\"name\":\"N\",\"role\":\"" + role +
                "\",\"rooms\":" + rooms + ",\"exp\":" + std::to_string(now + 600) + "}",
            kJwtSecret));
        client.join("lobby");
        return client;
    };
    // A moderator of another room only: a room action in the lobby may touch them, a global
    // ban may not.
    { granted("sub-other-mod", "participant", R"({"grief-and-loss":"moderator"})"); }
    Client global_mod = signed_in(server, "sub-gil", "moderator");
    CHECK(outcome(global_mod, moderate(v1::BAN, "sub-other-mod", true)) == v1::FORBIDDEN);
    CHECK(outcome(global_mod, moderate(v1::MUTE, "sub-other-mod")) == v1::ERROR_UNSPECIFIED);
    // An operator grant in the lobby does not make a moderator an operator everywhere.
    Client lobby_operator = granted("sub-lobby-op", "moderator", R"({"lobby":"operator"})");
    signed_in(server, "sub-op", "operator", "");
    CHECK(outcome(lobby_operator, moderate(v1::BAN, "sub-op", true)) == v1::FORBIDDEN);
}

TEST_CASE("rank: a token whose subject has a guest's form is refused") {
    ServerOptions options;
    options.toml = jwt_auth_toml();
    ServerProcess server(options);
    require_started(server);
    Client client(server, Encoding::binary);
    CHECK(client.error_reply(client.send(msg_hello_token(make_token(
              "g:AbCdEfGhIjKlM", "Looks Like A Guest", "moderator", 600)))) == v1::AUTH_FAILED);
}

TEST_CASE("rank: a subject whose role is not known can be acted on by operators only") {
    ServerOptions options;
    options.toml = jwt_auth_toml();
    ServerProcess server(options);
    require_started(server);
    Client global_mod = signed_in(server, "sub-gil", "moderator");
    Client operator_ = signed_in(server, "sub-op", "operator");
    for (auto action : kMemberActions) {
        CAPTURE(action);
        CHECK(outcome(global_mod, moderate(action, "sub-never-seen")) == v1::FORBIDDEN);
    }
    CHECK(outcome(global_mod, moderate(v1::BAN, "sub-never-seen", true)) == v1::FORBIDDEN);
    CHECK(outcome(operator_, moderate(v1::BAN, "sub-never-seen")) == v1::ERROR_UNSPECIFIED);
    // Once seen (as a participant), a moderator may act.
    signed_in(server, "sub-later", "participant", "");
    CHECK(outcome(global_mod, moderate(v1::BAN, "sub-later")) == v1::ERROR_UNSPECIFIED);
}

TEST_CASE("rank: a held post is released or rejected only by someone who outranks its author") {
    ServerOptions options;
    options.toml = jwt_auth_toml() + "[moderation]\ncrisis_dir = \"" +
                   std::string(HAVEN_SOURCE_DIR) + "/config/crisis\"\n" +
                   "[[rooms]]\nid = \"circle\"\ntitle = \"Circle\"\ncrisis_policy = \"hold\"\n";
    ServerProcess server(options);
    require_started(server);
    Client author = signed_in(server, "sub-mod-1", "moderator", "circle");
    Client other_mod = signed_in(server, "sub-mod-2", "moderator", "circle");
    Client operator_ = signed_in(server, "sub-op", "operator", "circle");
    const v1::ServerMessage held =
        author.reply(author.send(msg_post("circle", "I want to end my life tonight", "p1")));
    REQUIRE(held.has_ack());
    const std::string hold_id = held.ack().hold_id();
    REQUIRE_FALSE(hold_id.empty());
    for (auto action : {v1::REJECT_POST, v1::RELEASE_POST}) {
        v1::ClientMessage message;
        message.mutable_moderate()->set_room_id("circle");
        message.mutable_moderate()->set_action(action);
        message.mutable_moderate()->set_hold_id(hold_id);
        CAPTURE(action);
        CHECK(outcome(other_mod, message) == v1::FORBIDDEN);
    }
    v1::ClientMessage release;
    release.mutable_moderate()->set_room_id("circle");
    release.mutable_moderate()->set_action(v1::RELEASE_POST);
    release.mutable_moderate()->set_hold_id(hold_id);
    CHECK(outcome(operator_, release) == v1::ERROR_UNSPECIFIED);
}

TEST_CASE("rank: room moderators see actor labels in the audit log, operators see subjects") {
    ServerOptions options;
    options.toml = jwt_auth_toml();
    ServerProcess server(options);
    require_started(server);
    Client room_mod = room_moderator(server, "sub-rita");
    Client global_mod = signed_in(server, "sub-gil", "moderator");
    for (Client* actor : {&room_mod, &global_mod}) {
        v1::ClientMessage lock;
        lock.mutable_moderate()->set_room_id("lobby");
        lock.mutable_moderate()->set_action(v1::LOCK_ROOM);
        REQUIRE(actor->reply(actor->send(lock)).has_ack());
    }
    const auto audit = [](Client& client) {
        v1::ClientMessage request;
        request.mutable_audit()->set_room_id("lobby");
        request.mutable_audit()->set_limit(10);
        const v1::ServerMessage reply = client.reply(client.send(request));
        REQUIRE(reply.has_audit());
        return reply.audit();
    };
    const v1::AuditPage seen_by_mod = audit(room_mod);
    REQUIRE(seen_by_mod.entries_size() == 2);
    for (const auto& entry : seen_by_mod.entries()) {
        CHECK(entry.actor_subject().rfind("actor-", 0) == 0);
        CHECK(entry.actor_subject().find("sub-") == std::string::npos);
    }
    CHECK(seen_by_mod.entries(0).actor_subject() != seen_by_mod.entries(1).actor_subject());
    // A label is stable: asked again, the same.
    CHECK(audit(global_mod).entries(0).actor_subject() == seen_by_mod.entries(0).actor_subject());
    Client operator_ = signed_in(server, "sub-op", "operator");
    const v1::AuditPage seen_by_operator = audit(operator_);
    REQUIRE(seen_by_operator.entries_size() == 2);
    CHECK(seen_by_operator.entries(0).actor_subject() == "sub-gil");
    CHECK(seen_by_operator.entries(1).actor_subject() == "sub-rita");
}

TEST_CASE("rank: a globally banned operator is refused by the admin API as on the WebSocket") {
    ServerOptions options;
    options.toml = jwt_auth_toml();
    ServerProcess server(options);
    require_started(server);
    const std::string banned_token = make_token("sub-op-2", "Second", "operator", 600);
    const std::string good_token = make_token("sub-op-1", "First", "operator", 600);
    CHECK(http_get(server.port(), "/admin/audit", false, kDefaultWait, banned_token).status == 200);
    {
        Client second = signed_in(server, "sub-op-2", "operator");
        Client first = signed_in(server, "sub-op-1", "operator");
        // Operators may act on anyone, other operators included.
        CHECK(outcome(first, moderate(v1::BAN, "sub-op-2", true)) == v1::ERROR_UNSPECIFIED);
        CHECK(second.wait_close(5s) == std::optional<std::uint16_t>(4003));
    }
    REQUIRE(eventually(
        [&] {
            return http_get(server.port(), "/admin/audit", false, kDefaultWait, banned_token)
                       .status == 403;
        },
        5s));
    CHECK(http_get(server.port(), "/admin/audit", false, kDefaultWait, good_token).status == 200);
    Client again(server, Encoding::binary);
    v1::ClientMessage hello = msg_hello_token(banned_token);
    CHECK(again.error_reply(again.send(hello)) == v1::BANNED);
}

TEST_CASE("cluster: an operator on one instance cannot be banned by a moderator on another") {
    RedisProcess redis;
    REQUIRE(redis_available());
    REQUIRE(redis.start());
    const std::string prefix = unique_id("rank") + ":";
    ServerOptions options;
    options.toml = cluster_toml(redis, prefix, kFastPosts);
    ServerProcess a(options);
    ServerProcess b(options);
    require_started(a);
    require_started(b);
    {
        Client operator_ = signed_in(a, "sub-op", "operator");
        Client global_mod = signed_in(b, "sub-gil", "moderator");
        CHECK(outcome(global_mod, moderate(v1::BAN, "sub-op")) == v1::FORBIDDEN);
        CHECK(outcome(global_mod, moderate(v1::BAN, "sub-op", true)) == v1::FORBIDDEN);
        CHECK(outcome(global_mod, moderate_member(v1::KICK, operator_.member_id())) ==
              v1::FORBIDDEN);
    }
    // Offline, and asked on the other instance: still remembered.
    Client room_mod = room_moderator(a, "sub-rita");
    CHECK(outcome(room_mod, moderate(v1::MUTE, "sub-op")) == v1::FORBIDDEN);
    CHECK(outcome(room_mod, moderate(v1::BAN, "sub-gil")) == v1::FORBIDDEN);
}

}  // namespace
}  // namespace haven::test
