// Identities people can trust: names that cannot impersonate staff or the service, one look
// per name in a room, rooms for signed-in people only, room for staff in a full room, and
// tokens whose expiry and role changes take effect while connected. On one instance and,
// where the state is shared, on instances that share a Redis.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/clock.hpp"
#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"
#include "support/redis_process.hpp"
#include "support/token_factory.hpp"

namespace haven::test {
namespace {

// Full-width "Ｓａｍ", "S" zero-width space "am", Cyrillic "а" in "Sаm", "rn" for "m".
const std::string kFullWidthSam = "\xEF\xBC\xB3\xEF\xBD\x81\xEF\xBD\x8D";
const std::string kZeroWidthSam =
    "S\xE2\x80\x8B"
    "am";
const std::string kCyrillicSam = "S\xD0\xB0m";

v1::ErrorCode guest_hello_error(const ServerProcess& server, const std::string& handle) {
    Client guest(server, Encoding::json);
    const v1::ServerMessage reply = guest.reply(guest.send(msg_hello_guest(handle)));
    return reply.has_error() ? reply.error().code() : v1::ERROR_UNSPECIFIED;
}

// The token's expiry is 25 s ago: accepted within the 30 s leeway, so the session's token
// runs out about 5 s from now.
std::string token_ending_soon(const std::string& subject, const std::string& name,
                              const std::string& role) {
    return make_token(subject, name, role, -25);
}

TEST_CASE("a guest cannot take a reserved name or a staff member's name, in any disguise") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    Client sam(server, Encoding::binary);
    CHECK(sam.hello_token(make_token("mod-sam", "Sam", "moderator", 3600)).handle() == "Sam");

    for (const std::string& handle :
         {std::string("Sam"), std::string("sam"), kFullWidthSam, kZeroWidthSam, kCyrillicSam,
          std::string("Sarn"), std::string("Sam 2"), std::string("Moderator"),
          std::string("Crisis Line"), std::string("haven"), std::string("Mod Team")}) {
        CAPTURE(handle);
        CHECK(guest_hello_error(server, handle) == v1::HANDLE_UNAVAILABLE);
    }
    // Names that only share letters are fine, and so is the generated kind.
    Client samuel(server, Encoding::json);
    CHECK(samuel.hello_guest("Samuel").handle() == "Samuel");
    Client generated(server, Encoding::json);
    CHECK_FALSE(generated.hello_guest().handle().empty());
    // A guest's refused name does not end the connection: another name works.
    Client retrying(server, Encoding::json);
    CHECK(retrying.error_reply(retrying.send(msg_hello_guest(kFullWidthSam))) ==
          v1::HANDLE_UNAVAILABLE);
    CHECK(retrying.hello_guest("Sky").handle() == "Sky");
    // The zero-width space is gone from the name everyone sees.
    Client invisible(server, Encoding::json);
    CHECK(invisible.hello_guest("Ri\xE2\x80\x8Bver").handle() == "River");
}

TEST_CASE("a participant's token may not carry a staff member's or a reserved name") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    Client sam(server, Encoding::binary);
    sam.hello_token(make_token("mod-sam", "Sam", "moderator", 3600));

    Client impostor(server, Encoding::json);
    const v1::ServerMessage refused = impostor.reply(
        impostor.send(msg_hello_token(make_token("user-9", kFullWidthSam, "", 3600))));
    REQUIRE(refused.has_error());
    CHECK(refused.error().code() == v1::HANDLE_UNAVAILABLE);
    CHECK(refused.error().message().find("identity provider") != std::string::npos);
    CHECK(impostor.error_reply(impostor.send(msg_hello_token(
              make_token("user-9", "Crisis Line", "", 3600)))) == v1::HANDLE_UNAVAILABLE);
    // Staff are who the names are kept for: another moderator may be called "Moderator Ana".
    Client ana(server, Encoding::json);
    CHECK(ana.hello_token(make_token("mod-ana", "Moderator Ana", "moderator", 3600)).handle() ==
          "Moderator Ana");
}

TEST_CASE("a staff member's name is protected on every instance sharing a Redis") {
    TwoInstances cluster("names");
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    Client sam(a, Encoding::binary);
    sam.hello_token(make_token("mod-sam", "Sam", "moderator", 3600));
    // The name is written to Redis just after Sam's Welcome: on another instance it holds
    // within moments.
    CHECK(
        eventually([&] { return guest_hello_error(b, kFullWidthSam) == v1::HANDLE_UNAVAILABLE; }));
    CHECK(guest_hello_error(b, "Sam") == v1::HANDLE_UNAVAILABLE);
    Client other(b, Encoding::binary);
    CHECK(other.hello_guest("Robin").handle() == "Robin");
}

TEST_CASE("no two people in a room go by look-alike names, but one person on two devices may") {
    ServerProcess server;
    require_started(server);
    Client river = guest_in(server, Encoding::binary, "lobby", "River");
    Client lookalike(server, Encoding::json);
    lookalike.hello_guest("R\xD1\x96ver");  // Cyrillic "і"
    CHECK(lookalike.error_reply(lookalike.send(msg_join("lobby"))) == v1::HANDLE_UNAVAILABLE);
    // Another room is fine, and so is this one once River has left.
    CHECK(lookalike.join("anxiety-support").room().id() == "anxiety-support");
    REQUIRE(river.reply(river.send(msg_leave("lobby"))).has_left());
    CHECK(lookalike.join("lobby").room().id() == "lobby");

    // River's second device: the same guest identity, the same name.
    Client phone(server, Encoding::binary);
    const v1::Welcome first = river.welcome();
    phone.hello_guest("", first.guest_token());
    Client laptop(server, Encoding::binary);
    laptop.hello_guest("", first.guest_token());
    CHECK(phone.join("grief-and-loss").room().id() == "grief-and-loss");
    CHECK(laptop.join("grief-and-loss").room().id() == "grief-and-loss");
}

TEST_CASE("two look-alike names joining at once on two instances: exactly one gets in") {
    TwoInstances cluster("unique");
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    for (int round = 0; round < 5; ++round) {
        CAPTURE(round);
        const std::string room = round % 2 == 0 ? "lobby" : "anxiety-support";
        Client first(a, Encoding::binary);
        first.hello_guest("Willow");
        Client second(b, Encoding::binary);
        second.hello_guest("W\xD1\x96llow");
        const std::uint64_t first_request = first.send(msg_join(room));
        const std::uint64_t second_request = second.send(msg_join(room));
        const v1::ServerMessage first_reply = first.reply(first_request);
        const v1::ServerMessage second_reply = second.reply(second_request);
        CHECK(first_reply.has_joined() != second_reply.has_joined());
        const v1::ServerMessage& refused = first_reply.has_joined() ? second_reply : first_reply;
        REQUIRE(refused.has_error());
        CHECK(refused.error().code() == v1::HANDLE_UNAVAILABLE);
    }
}

TEST_CASE("a room for signed-in people refuses guests and admits people with a token") {
    ServerProcess server(
        {.toml = jwt_auth_toml() +
                 "[[rooms]]\nid = \"members\"\ntitle = \"Members\"\n"
                 "guests = false\n[[rooms]]\nid = \"lobby\"\ntitle = \"Lobby\"\n"});
    require_started(server);
    Client guest(server, Encoding::json);
    const v1::Welcome welcome = guest.hello_guest();
    REQUIRE(welcome.rooms_size() == 2);
    CHECK(welcome.rooms(0).sign_in_required());
    CHECK_FALSE(welcome.rooms(1).sign_in_required());
    CHECK(guest.error_reply(guest.send(msg_join("members"))) == v1::SIGN_IN_REQUIRED);
    CHECK(guest.join("lobby").room().id() == "lobby");
    Client member(server, Encoding::binary);
    member.hello_token(make_token("user-1", "Robin", "", 3600));
    CHECK(member.join("members").room().id() == "members");
}

TEST_CASE("peer supporters and moderators are never refused by a full room") {
    ServerProcess server(
        {.toml = jwt_auth_toml() + "[[rooms]]\nid = \"small\"\ntitle = \"Small\"\ncapacity = 2\n"});
    require_started(server);
    Client one = guest_in(server, Encoding::binary, "small");
    Client two = guest_in(server, Encoding::binary, "small");
    Client three(server, Encoding::binary);
    three.hello_guest();
    CHECK(three.error_reply(three.send(msg_join("small"))) == v1::ROOM_FULL);
    Client participant(server, Encoding::binary);
    participant.hello_token(make_token("user-1", "Robin", "", 3600));
    CHECK(participant.error_reply(participant.send(msg_join("small"))) == v1::ROOM_FULL);

    Client supporter(server, Encoding::binary);
    supporter.hello_token(make_token("sup-1", "Ash", "peer_supporter", 3600));
    CHECK(supporter.join("small").members_size() == 3);
    Client moderator(server, Encoding::json);
    moderator.hello_token(make_token("mod-1", "Kai", "moderator", 3600));
    CHECK(moderator.join("small").members_size() == 4);
    // The room stays full for participants.
    CHECK(three.error_reply(three.send(msg_join("small"))) == v1::ROOM_FULL);
}

TEST_CASE("a session whose token runs out is told first, then closed with 4001") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    Client client(server, Encoding::json);
    const v1::Welcome welcome = client.hello_token(token_ending_soon("user-1", "Robin", ""));
    const std::int64_t ends_at = static_cast<std::int64_t>(welcome.token_expires_at_ms());
    CHECK(ends_at > core::wall_ms());
    CHECK(ends_at < core::wall_ms() + 6'000);
    const v1::ServerMessage notice = client.expect(
        [](const v1::ServerMessage& m) { return m.has_token_expiring(); }, "TokenExpiring");
    CHECK(notice.token_expiring().expires_at_ms() == welcome.token_expires_at_ms());
    CHECK_CLOSE_CODE(client, 4001, Millis(10'000));
    CHECK(core::wall_ms() >= ends_at);
}

TEST_CASE("Refresh applies a demotion at once and keeps the session past the old expiry") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    Client target = guest_in(server, Encoding::binary, "lobby", "Target");
    Client moderator(server, Encoding::json);
    moderator.hello_token(token_ending_soon("mod-1", "Kai", "moderator"));
    moderator.join("lobby");

    // A token for someone else, or a bad one, changes nothing.
    CHECK(moderator.error_reply(moderator.send([] {
        v1::ClientMessage m;
        m.mutable_refresh()->set_token(make_token("mod-2", "Kai", "moderator", 3600));
        return m;
    }())) == v1::AUTH_FAILED);

    v1::ClientMessage refresh;
    refresh.mutable_refresh()->set_token(make_token("mod-1", "Kai", "", 3600));
    const v1::ServerMessage refreshed = moderator.reply(moderator.send(refresh));
    REQUIRE(refreshed.has_refreshed());
    CHECK(refreshed.refreshed().role() == v1::ROLE_PARTICIPANT);
    CHECK(refreshed.refreshed().token_expires_at_ms() >
          static_cast<std::uint64_t>(core::wall_ms() + 3'000'000));

    v1::ClientMessage kick;
    kick.mutable_moderate()->set_room_id("lobby");
    kick.mutable_moderate()->set_action(v1::KICK);
    kick.mutable_moderate()->set_member_id(target.member_id());
    kick.mutable_moderate()->set_reason("testing");
    CHECK(moderator.error_reply(moderator.send(kick)) == v1::FORBIDDEN);

    // Past the first token's end the session is still open.
    std::this_thread::sleep_for(std::chrono::milliseconds(6'500));
    moderator.ping();
    target.ping();
}

TEST_CASE("a guest session has no token to refresh") {
    ServerProcess server;
    require_started(server);
    Client guest(server, Encoding::json);
    guest.hello_guest();
    v1::ClientMessage refresh;
    refresh.mutable_refresh()->set_token(make_token("user-1", "Robin", "", 3600));
    CHECK(guest.error_reply(guest.send(refresh)) == v1::BAD_REQUEST);
    Client early(server, Encoding::json);
    CHECK(early.error_reply(early.send(refresh)) == v1::NOT_AUTHENTICATED);
}

}  // namespace
}  // namespace haven::test
