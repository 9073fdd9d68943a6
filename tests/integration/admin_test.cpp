// The operators' admin API: the audit log over HTTP behind an operator token.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <utility>

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

// Runs haven-admin with `arguments`; its standard output and exit status.
std::pair<std::string, int> run_admin_tool(const std::string& arguments) {
    const std::string command = std::string(HAVEN_ADMIN_BINARY) + " " + arguments + " 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    const int status = ::pclose(pipe);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

v1::ClientMessage msg_lock(const std::string& room) {
    v1::ClientMessage message;
    message.mutable_moderate()->set_room_id(room);
    message.mutable_moderate()->set_action(v1::LOCK_ROOM);
    message.mutable_moderate()->set_reason("a pause");
    return message;
}

TEST_CASE("haven-admin token: a new moderator gets in with the role and rooms it was minted for") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    const std::string config = "--config " + server.config_path().string();

    const auto [moderator_token, minted] =
        run_admin_tool("token --role moderator --rooms lobby --name 'Ana Guide' " + config);
    REQUIRE(minted == 0);
    Client ana(server, Encoding::binary);
    const v1::Welcome welcome = ana.hello_token(moderator_token);
    CHECK(welcome.handle() == "Ana Guide");
    CHECK(welcome.role() == v1::ROLE_PARTICIPANT);  // a moderator of lobby only
    ana.join("lobby");
    CHECK(ana.reply(ana.send(msg_lock("lobby"))).has_ack());
    ana.join("anxiety-support");
    CHECK(ana.error_reply(ana.send(msg_lock("anxiety-support"))) == v1::FORBIDDEN);

    // An operator's token opens the admin API; a participant's does not.
    const auto [operator_token, minted_operator] =
        run_admin_tool("token --role operator --name Operator " + config);
    REQUIRE(minted_operator == 0);
    CHECK(http_get(server.port(), "/admin/audit", false, kDefaultWait, operator_token).status ==
          200);
    const auto [participant_token, minted_participant] =
        run_admin_tool("token --role participant --name Pat " + config);
    REQUIRE(minted_participant == 0);
    CHECK(http_get(server.port(), "/admin/audit", false, kDefaultWait, participant_token).status ==
          403);

    // Mistakes are refused with a usage error, not a token the server would refuse.
    CHECK(run_admin_tool("token --role boss " + config).second == 2);
    CHECK(run_admin_tool("token --rooms 'Lobby!' " + config).second == 2);
    CHECK(run_admin_tool("token --hours 0 " + config).second == 2);
    CHECK(run_admin_tool("nothing").second == 2);
}

}  // namespace haven::test
