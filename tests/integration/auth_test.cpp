// Hello: guests, signed identity tokens, and what happens without (or with a bad) Hello.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "core/clock.hpp"
#include "integration/helpers.hpp"
#include "support/token_factory.hpp"

namespace haven::test {
namespace {

TEST_CASE("guest Hello is answered with a Welcome") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        const std::uint64_t request = client.send(msg_hello_guest());
        const v1::ServerMessage message = client.reply(request);
        REQUIRE(message.has_welcome());
        CHECK(message.request_id() == request);
        const v1::Welcome& welcome = message.welcome();
        CHECK_FALSE(welcome.handle().empty());
        CHECK_FALSE(welcome.session_id().empty());
        CHECK(welcome.role() == v1::ROLE_PARTICIPANT);
        CHECK_FALSE(welcome.guest_token().empty());
        CHECK(welcome.server_time_ms() > 0);
        CHECK(welcome.limits().max_frame_bytes() == 65536);
        CHECK(welcome.limits().post_burst() == 10);
        std::set<std::string> rooms;
        for (const auto& room : welcome.rooms()) rooms.insert(room.id());
        CHECK(rooms == std::set<std::string>(std::begin(kDefaultRooms), std::end(kDefaultRooms)));
        const auto lobby = std::find_if(welcome.rooms().begin(), welcome.rooms().end(),
                                        [](const v1::RoomInfo& r) { return r.id() == "lobby"; });
        REQUIRE(lobby != welcome.rooms().end());
        CHECK(lobby->title() == "Drop-in lounge");
        CHECK(lobby->kind() == "drop_in");
        CHECK(lobby->capacity() == 200);

        // Members are counted in the list: someone joins a room, the next Welcome says so
        // (a room per encoding, so the first pass's leave cannot race the second's count).
        const std::string counted_room = encoding == Encoding::binary ? "lobby" : "anxiety-support";
        Client member(server, encoding);
        member.hello_guest();
        REQUIRE(member.reply(member.send(msg_join(counted_room))).has_joined());
        Client next(server, encoding);
        const v1::Welcome later = next.reply(next.send(msg_hello_guest())).welcome();
        const auto counted =
            std::find_if(later.rooms().begin(), later.rooms().end(),
                         [&](const v1::RoomInfo& r) { return r.id() == counted_room; });
        REQUIRE(counted != later.rooms().end());
        CHECK(counted->member_count() == 1);

        // A reconnecting client that has the list already asks to leave it out.
        Client reconnecting(server, encoding);
        v1::ClientMessage without_rooms = msg_hello_guest();
        without_rooms.mutable_hello()->set_omit_rooms(true);
        const v1::ServerMessage short_welcome =
            reconnecting.reply(reconnecting.send(without_rooms));
        REQUIRE(short_welcome.has_welcome());
        CHECK(short_welcome.welcome().rooms_size() == 0);
        CHECK_FALSE(short_welcome.welcome().session_id().empty());
        CHECK_FALSE(short_welcome.welcome().guest_token().empty());

        // A preferred handle is honoured (cleaned up).
        Client named(server, encoding);
        CHECK(named.hello_guest("  River   Stone ").handle() == "River Stone");

        // A second Hello on the same connection is refused.
        CHECK(client.error_reply(client.send(msg_hello_guest())) == v1::ALREADY_AUTHENTICATED);
    }
}

TEST_CASE("a valid HS256 token gives the token's handle and role") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    struct Case {
        const char* role_claim;
        v1::Role role;
    };
    const Case cases[] = {{"", v1::ROLE_PARTICIPANT},
                          {"peer_supporter", v1::ROLE_PEER_SUPPORTER},
                          {"moderator", v1::ROLE_MODERATOR}};
    for (Encoding encoding : kEncodings) {
        for (const Case& c : cases) {
            CAPTURE_ENCODING(encoding);
            const std::string role_claim = c.role_claim;
            CAPTURE(role_claim);
            Client client(server, encoding);
            const v1::Welcome welcome =
                client.hello_token(make_token("user-17", "Robin", c.role_claim, 3600));
            CHECK(welcome.handle() == "Robin");
            CHECK(welcome.role() == c.role);
            CHECK(welcome.guest_token().empty());  // only guests get a guest pass
            // The identity is usable: join and post under it.
            client.join("lobby");
            const v1::Ack ack = client.post("lobby", "hello from Robin");
            const v1::ServerMessage event =
                client.expect(posted_seq("lobby", ack.seq()), "own posted event");
            CHECK(event.event().posted().author().handle() == "Robin");
            CHECK(event.event().posted().author().role() == c.role);
        }
    }
}

TEST_CASE("rejected tokens get AUTH_FAILED and the connection may try again") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        const std::string expired = make_token("user-1", "Robin", "", -3600);
        const std::string wrong_signature =
            make_token("user-1", "Robin", "", 3600, "some-other-secret-that-is-long-enough-000");
        const std::string unsigned_token =
            make_unsigned_token(R"({"sub":"user-1","name":"Robin","exp":9999999999})");
        const std::string garbage = "not.a.token";
        for (const std::string* token : {&expired, &wrong_signature, &unsigned_token, &garbage}) {
            CAPTURE(*token);
            CHECK(client.error_reply(client.send(msg_hello_token(*token))) == v1::AUTH_FAILED);
        }
        // Four failures are tolerated; a good token still works.
        CHECK(client.hello_token(make_token("user-1", "Robin", "", 3600)).handle() == "Robin");
    }
}

TEST_CASE("a token for another audience, or naming a claim twice, is refused at Hello") {
    ServerProcess server({.toml = jwt_auth_toml() + "jwt_audience = \"haven-chat\"\n"});
    require_started(server);
    const std::string exp = std::to_string(core::wall_seconds() + 3600);
    const auto token_with = [&](const std::string& claims) {
        return make_hs256_token(R"({"sub":"user-1","name":"Robin","exp":)" + exp + claims + "}",
                                kJwtSecret);
    };
    Client client(server, Encoding::json);
    const v1::ServerMessage other_service =
        client.reply(client.send(msg_hello_token(token_with(R"(,"aud":"billing")"))));
    REQUIRE(other_service.has_error());
    CHECK(other_service.error().code() == v1::AUTH_FAILED);
    CHECK(other_service.error().message() == "token rejected: wrong_audience");
    const v1::ServerMessage promoted = client.reply(client.send(msg_hello_token(
        token_with(R"(,"aud":"haven-chat","role":"participant","role":"operator")"))));
    REQUIRE(promoted.has_error());
    CHECK(promoted.error().message() == "token rejected: duplicate_key");

    const v1::Welcome welcome =
        client.hello_token(token_with(R"(,"aud":["billing","haven-chat"],"role":"moderator")"));
    CHECK(welcome.role() == v1::ROLE_MODERATOR);
}

TEST_CASE("five failed Hellos close the connection with 1008") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        const std::string expired = make_token("user-1", "Robin", "", -3600);
        for (int i = 0; i < 5; ++i) {
            CHECK(client.error_reply(client.send(msg_hello_token(expired))) == v1::AUTH_FAILED);
        }
        CHECK_CLOSE_CODE(client, 1008, kDefaultWait);
    }
}

TEST_CASE("a server without a token secret refuses tokens") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        CHECK(client.error_reply(client.send(
                  msg_hello_token(make_token("user-1", "Robin", "", 3600)))) == v1::AUTH_FAILED);
    }
}

TEST_CASE("requests before Hello get NOT_AUTHENTICATED except Ping") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        client.ping();
        CHECK(client.error_reply(client.send(msg_join("lobby"))) == v1::NOT_AUTHENTICATED);
        CHECK(client.error_reply(client.send(msg_post("lobby", "hi"))) == v1::NOT_AUTHENTICATED);
        CHECK(client.error_reply(client.send(msg_history("lobby", 0, 0, 10))) ==
              v1::NOT_AUTHENTICATED);
        CHECK(client.error_reply(client.send(msg_leave("lobby"))) == v1::NOT_AUTHENTICATED);
        // Hello without token or guest is a bad request, not an authentication.
        v1::ClientMessage empty_hello;
        empty_hello.mutable_hello()->set_client("x");
        CHECK(client.error_reply(client.send(empty_hello)) == v1::BAD_REQUEST);
        // After all that the connection is still fine.
        client.hello_guest();
        client.join("lobby");
    }
}

TEST_CASE("guest Hello on a server without guests gets GUESTS_DISABLED") {
    ServerProcess server({.toml = jwt_auth_toml(false)});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        CHECK(client.error_reply(client.send(msg_hello_guest())) == v1::GUESTS_DISABLED);
        // Signing in still works on the same connection.
        CHECK(client.hello_token(make_token("user-2", "Sam", "", 3600)).handle() == "Sam");
    }
}

}  // namespace
}  // namespace haven::test
