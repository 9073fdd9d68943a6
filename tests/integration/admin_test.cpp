// The operators' admin API: the audit log over HTTP behind an operator token.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "integration/helpers.hpp"

namespace haven::test {

TEST_CASE("admin API: operators page through the audit log, others are refused") {
    ServerOptions options;
    options.toml = jwt_auth_toml();
    ServerProcess server(options);
    require_started(server);

    Client moderator(server, Encoding::binary);
    moderator.hello_token(make_token("mod-7", "Moderator Sam", "moderator", 600));
    for (auto action : {v1::LOCK_ROOM, v1::UNLOCK_ROOM, v1::LOCK_ROOM}) {
        v1::ClientMessage message;
        message.mutable_moderate()->set_room_id("lobby");
        message.mutable_moderate()->set_action(action);
        message.mutable_moderate()->set_reason("a quiet hour");
        REQUIRE(moderator.reply(moderator.send(message)).has_ack());
    }

    const std::string operator_token = make_token("op-1", "Operator", "operator", 600);
    HttpResult page;
    REQUIRE(eventually([&] {
        page = http_get(server.port(), "/admin/audit?limit=2", false, kDefaultWait, operator_token);
        return page.status == 200 && page.body.find("lock_room") != std::string::npos;
    }));
    const boost::json::object first = boost::json::parse(page.body).as_object();
    const auto& entries = first.at("entries").as_array();
    REQUIRE(entries.size() == 2);
    CHECK(first.at("hasMore").as_bool());
    CHECK(entries[0].at("action").as_string() == "lock_room");
    CHECK(entries[1].at("action").as_string() == "unlock_room");
    CHECK(entries[0].at("actor").as_string() == "Moderator Sam");
    CHECK(entries[0].at("roomId").as_string() == "lobby");
    CHECK(entries[0].at("reason").as_string() == "a quiet hour");

    const std::string before(entries[1].at("id").as_string());
    const HttpResult older =
        http_get(server.port(), "/admin/audit?before=" + before + "&room=lobby", false,
                 kDefaultWait, operator_token);
    REQUIRE(older.status == 200);
    const boost::json::value older_page = boost::json::parse(older.body);
    const auto& rest = older_page.at("entries").as_array();
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].at("action").as_string() == "lock_room");

    CHECK(http_get(server.port(), "/admin/audit").status == 401);
    CHECK(http_get(server.port(), "/admin/audit", false, kDefaultWait, "not-a-token").status ==
          401);
    CHECK(http_get(server.port(), "/admin/audit", false, kDefaultWait,
                   make_token("mod-7", "Moderator Sam", "moderator", 600))
              .status == 403);
    CHECK(http_get(server.port(), "/admin/audit?limit=0", false, kDefaultWait, operator_token)
              .status == 400);
    CHECK(http_get(server.port(), "/admin/nothing", false, kDefaultWait, operator_token).status ==
          404);
}

}  // namespace haven::test
