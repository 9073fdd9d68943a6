// Rooms opened and closed at run time through the server API, from [[room_templates]]: on one
// instance, across instances on Redis (one that starts later too), and with a join racing a
// close.
#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"

namespace haven::test {
namespace {

const std::string kOperator = make_token("op-1", "Olive", "operator", 600);

// The body of [limits], then the templates (the TOML goes on from [limits]).
std::string with_templates(const std::string& limits) {
    return limits +
           "max_runtime_rooms = 3\n"
           "[[room_templates]]\nid = \"circle\"\ntitle = \"Evening circle\"\n"
           "topic = \"A small hosted circle.\"\nkind = \"meeting\"\ncapacity = 3\n"
           "[[room_templates]]\nid = \"pair\"\ntitle = \"One to one\"\nkind = \"one_to_one\"\n"
           "capacity = 2\nguests = false\n";
}

HttpResult post(const ServerProcess& server, const std::string& path, const std::string& body) {
    return http_post(server.port(), path, body, kOperator);
}

std::string open_room(const ServerProcess& server, const std::string& body) {
    const HttpResult result = post(server, "/admin/api/rooms/open", body);
    INFO(result.status << " " << result.body);
    REQUIRE(result.status == 200);
    return std::string(boost::json::parse(result.body).at("id").as_string());
}

bool listed(const ServerProcess& server, const std::string& room_id) {
    const HttpResult result =
        http_get(server.port(), "/admin/api/rooms", false, kDefaultWait, kOperator);
    REQUIRE(result.status == 200);
    const boost::json::value rooms = boost::json::parse(result.body);
    for (const auto& room : rooms.at("rooms").as_array()) {
        if (room.at("id").as_string() == room_id) return room.at("openedAtRunTime").as_bool();
    }
    return false;
}

v1::ErrorCode join_error(Client& client, const std::string& room_id) {
    v1::ClientMessage join;
    join.mutable_join()->set_room_id(room_id);
    return client.error_reply(client.send(join));
}

bool left_closed(Client& client, const std::string& room_id) {
    return client
        .next([&](const v1::ServerMessage& m) {
            return m.has_left() && m.left().room_id() == room_id && m.left().reason() == "closed";
        })
        .has_value();
}

}  // namespace

TEST_CASE(
    "run-time rooms: opened from a template, joined, closed with everyone out, refused after") {
    ServerProcess server({.toml = jwt_auth_toml() + "[limits]\n" + with_templates("")});
    require_started(server);

    const std::string id = open_room(server, R"({"template":"circle","title":"Tuesday circle"})");
    CHECK(id.rfind("circle-", 0) == 0);
    CHECK(listed(server, id));
    Client ana = guest_in(server, Encoding::binary, id, "Ana");
    Client ben(server, Encoding::json);
    ben.hello_guest("Ben");
    const v1::Joined joined = ben.join(id);
    CHECK(joined.room().title() == "Tuesday circle");
    CHECK(joined.room().topic() == "A small hosted circle.");
    CHECK(joined.room().kind() == "meeting");
    ana.post(id, "glad to be here");
    // The template's capacity holds.
    Client third = guest_in(server, Encoding::binary, id, "Cy");
    Client fourth(server, Encoding::binary);
    fourth.hello_guest("Dee");
    CHECK(join_error(fourth, id) == v1::ROOM_FULL);
    // A template that keeps guests out does.
    const std::string pair = open_room(server, R"({"template":"pair"})");
    CHECK(join_error(fourth, pair) == v1::SIGN_IN_REQUIRED);

    const HttpResult closed = post(server, "/admin/api/rooms/close",
                                   R"({"room":")" + id + R"(","reason":"the circle ended"})");
    REQUIRE(closed.status == 200);
    CHECK(left_closed(ana, id));
    CHECK(left_closed(ben, id));
    CHECK(left_closed(third, id));
    CHECK_FALSE(listed(server, id));
    CHECK(join_error(fourth, id) == v1::UNKNOWN_ROOM);
    ana.ping();  // still connected: only the room went
    CHECK(post(server, "/admin/api/rooms/close", R"({"room":")" + id + R"(","reason":"again"})")
              .status == 404);

    // Refusals: a configured room, an unknown template, a bad title, no reason, too many.
    CHECK(post(server, "/admin/api/rooms/close", R"({"room":"lobby","reason":"r"})").status == 409);
    CHECK(post(server, "/admin/api/rooms/open", R"({"template":"nothing"})").status == 404);
    CHECK(post(server, "/admin/api/rooms/open", R"({"template":"circle","title":""})").status ==
          400);
    CHECK(post(server, "/admin/api/rooms/close", R"({"room":")" + pair + R"("})").status == 400);
    open_room(server, R"({"template":"circle"})");
    open_room(server, R"({"template":"circle"})");
    CHECK(post(server, "/admin/api/rooms/open", R"({"template":"circle"})").status == 503);
    CHECK(http_post(server.port(), "/admin/api/rooms/open", R"({"template":"circle"})",
                    make_token("mod-1", "Mo", "moderator", 600))
              .status == 403);

    // Both are in the audit log, naming the operator and the room.
    const HttpResult audit =
        http_get(server.port(), "/admin/audit?room=" + id, false, kDefaultWait, kOperator);
    CHECK(audit.body.find("api_room_open") != std::string::npos);
    CHECK(audit.body.find("api_room_close") != std::string::npos);
    CHECK(audit.body.find("the circle ended") != std::string::npos);
}

TEST_CASE(
    "run-time rooms on three instances: opened on one, joinable on the others and on one "
    "started later, and closed on another with everyone out everywhere") {
    TwoInstances cluster("runtime-rooms", with_templates(kFastPosts));
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    const std::string id = open_room(a, R"({"template":"circle"})");
    Client on_a = guest_in(a, Encoding::binary, id, "Ana");
    // B hears of it through Redis.
    Client on_b(b, Encoding::json);
    on_b.hello_guest("Ben");
    REQUIRE(eventually([&] {
        v1::ClientMessage join;
        join.mutable_join()->set_room_id(id);
        return on_b.reply(on_b.send(join)).has_joined();
    }));
    // C starts after the room opened and finds it in Redis.
    ServerProcess c(ServerOptions{
        .toml = cluster_toml(cluster.redis, cluster.prefix, with_templates(kFastPosts))});
    require_started(c);
    Client on_c = guest_in(c, Encoding::binary, id, "Cy");
    on_a.post(id, "seen everywhere");
    CHECK(on_c.next([](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_posted() &&
               m.event().posted().text() == "seen everywhere";
    }));
    CHECK(listed(c, id));

    REQUIRE(
        post(b, "/admin/api/rooms/close", R"({"room":")" + id + R"(","reason":"ended"})").status ==
        200);
    CHECK(left_closed(on_a, id));
    CHECK(left_closed(on_b, id));
    CHECK(left_closed(on_c, id));
    for (const ServerProcess* server : {&a, &b, static_cast<const ServerProcess*>(&c)}) {
        CHECK(eventually([&] { return !listed(*server, id); }));
    }
    Client late(c, Encoding::binary);
    late.hello_guest("Dee");
    CHECK(join_error(late, id) == v1::UNKNOWN_ROOM);
    // Nobody is left in its presence.
    CHECK(http_get(a.port(), "/admin/api/presence?room=" + id, false, kDefaultWait, kOperator)
              .status == 404);
}

TEST_CASE("run-time rooms on two instances: joins racing a close end outside the room") {
    TwoInstances cluster("runtime-race", with_templates(kFastPosts));
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    for (int round = 0; round < 5; ++round) {
        CAPTURE(round);
        const std::string id = open_room(a, R"({"template":"circle"})");
        Client joiner(b, Encoding::binary);
        joiner.hello_guest("Joiner");
        REQUIRE(eventually([&] { return listed(b, id); }));
        // The join and the close go out at once, from different instances.
        const std::uint64_t request = [&] {
            v1::ClientMessage join;
            join.mutable_join()->set_room_id(id);
            return joiner.send(join);
        }();
        std::thread closer([&] {
            CHECK(post(a, "/admin/api/rooms/close", R"({"room":")" + id + R"(","reason":"r"})")
                      .status == 200);
        });
        const v1::ServerMessage answer = joiner.reply(request);
        closer.join();
        if (answer.has_joined()) {
            CHECK(left_closed(joiner, id));  // in, then out with the others
        } else {
            REQUIRE(answer.has_error());
            CHECK(answer.error().code() == v1::UNKNOWN_ROOM);
        }
        // Whichever it was, the person is in no room's presence and can go on elsewhere.
        CHECK(eventually([&] { return !listed(a, id) && !listed(b, id); }));
        joiner.join("lobby");
    }
}

}  // namespace haven::test
