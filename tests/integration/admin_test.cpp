// The operators' admin API: the audit log over HTTP behind an operator token.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <utility>

#include <boost/json.hpp>

#include "integration/cluster_support.hpp"
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

TEST_CASE("haven-admin calls the server API, as an operator it names, with a token it mints") {
    ServerProcess server({.toml = jwt_auth_toml() +
                                  "[[room_templates]]\nid = \"circle\"\ntitle = \"Circle\"\n"});
    require_started(server);
    const std::string where = " --config " + server.config_path().string() +
                              " --url http://127.0.0.1:" + std::to_string(server.port());
    Client robin = guest_in(server, Encoding::binary, "lobby", "Robin");

    const auto [published, publish_status] =
        run_admin_tool("publish lobby 'Tea break: back at ten past.'" + where);
    REQUIRE(publish_status == 0);
    CHECK(boost::json::parse(published).at("seq").as_int64() > 0);
    CHECK(robin.next([](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_system_notice() &&
               m.event().system_notice().text() == "Tea break: back at ten past.";
    }));
    const auto [info, info_status] = run_admin_tool("info" + where);
    REQUIRE(info_status == 0);
    CHECK(boost::json::parse(info).at("instances").as_array().size() == 1);
    const auto [stats, stats_status] = run_admin_tool("presence-stats lobby" + where);
    REQUIRE(stats_status == 0);
    CHECK(boost::json::parse(stats).at("connections").as_int64() == 1);
    CHECK(run_admin_tool("history-remove lobby --reason 'a request'" + where).second == 0);
    CHECK(robin.next([](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_history_cleared();
    }));

    // A room from a template, then closed: Robin, who joined it, is told.
    const auto [opened, open_status] =
        run_admin_tool("open-room circle --title 'Tuesday circle'" + where);
    REQUIRE(open_status == 0);
    const std::string circle(boost::json::parse(opened).at("id").as_string());
    CHECK(robin.join(circle).room().title() == "Tuesday circle");
    CHECK(run_admin_tool("close-room " + circle + " --reason 'it ended'" + where).second == 0);
    CHECK(robin.next([&](const v1::ServerMessage& m) {
        return m.has_left() && m.left().room_id() == circle && m.left().reason() == "closed";
    }));
    CHECK(run_admin_tool("close-room " + circle + where).second == 2);  // no reason

    // The audit log names the operator at the keyboard.
    const auto [audit, audit_status] = run_admin_tool("audit --room lobby" + where);
    REQUIRE(audit_status == 0);
    bool named = false;
    const boost::json::value entries = boost::json::parse(audit).at("entries");
    for (const auto& entry : entries.as_array()) {
        named |= entry.at("action").as_string() == "api_history_remove" &&
                 std::string(entry.at("actor").as_string()).rfind("Operator ", 0) == 0 &&
                 entry.at("reason").as_string() == "a request";
    }
    CHECK(named);

    // Mistakes: a missing reason or room, a token without the role, no server there.
    CHECK(run_admin_tool("history-remove lobby" + where).second == 2);
    CHECK(run_admin_tool("publish 'Not A Room' hi" + where).second == 2);
    CHECK(run_admin_tool("publish lobby" + where).second == 2);
    CHECK(run_admin_tool("info --token " + make_token("mod-1", "Mo", "moderator", 600) + where)
              .second == 1);
    CHECK(run_admin_tool("info --url http://127.0.0.1:1 --config " +
                         server.config_path().string())
              .second == 3);
}

// ---- the server API ---------------------------------------------------------------------------

boost::json::value api_get(const ServerProcess& server, const std::string& path,
                           const std::string& bearer, unsigned expected_status = 200) {
    const HttpResult result = http_get(server.port(), path, false, kDefaultWait, bearer);
    INFO(path << " -> " << result.status << " " << result.body);
    REQUIRE(result.status == expected_status);
    return boost::json::parse(result.body);
}

Client signed_in_to(const ServerProcess& server, Encoding encoding, const std::string& token,
                    const std::string& room) {
    Client client(server, encoding);
    client.hello_token(token);
    client.join(room);
    return client;
}

std::int64_t room_members(const boost::json::value& rooms, const std::string& id) {
    for (const auto& room : rooms.at("rooms").as_array()) {
        if (room.at("id").as_string() == id) return room.at("members").as_int64();
    }
    return -1;
}

TEST_CASE("server API: rooms, presence and disconnect, for operators only and audited") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    const std::string op = make_token("op-1", "Olive", "operator", 600);
    const std::string kim_token = make_token("sub-kim", "Kim", "participant", 600);
    Client kim_phone = signed_in_to(server, Encoding::binary, kim_token, "lobby");
    Client kim_laptop = signed_in_to(server, Encoding::json, kim_token, "lobby");
    Client other = guest_in(server, Encoding::binary, "lobby", "Robin");

    CHECK(room_members(api_get(server, "/admin/api/rooms", op), "lobby") == 3);
    CHECK(room_members(api_get(server, "/admin/api/rooms", op), "grief-and-loss") == 0);
    const boost::json::value presence = api_get(server, "/admin/api/presence?room=lobby", op);
    CHECK(presence.at("members").as_array().size() == 3);
    const boost::json::value stats = api_get(server, "/admin/api/presence_stats?room=lobby", op);
    CHECK(stats.at("connections").as_int64() == 3);
    CHECK(stats.at("people").as_int64() == 2);  // Kim on two devices
    api_get(server, "/admin/api/presence?room=nowhere", op, 404);

    const HttpResult done = http_post(server.port(), "/admin/api/disconnect",
                                      R"({"subject":"sub-kim","reason":"asked to"})", op);
    CHECK(done.status == 200);
    CHECK(kim_phone.wait_close() == std::optional<std::uint16_t>(4004));
    CHECK(kim_laptop.wait_close() == std::optional<std::uint16_t>(4004));
    other.ping();  // untouched
    CHECK(eventually(
        [&] { return room_members(api_get(server, "/admin/api/rooms", op), "lobby") == 1; }));

    // Refusals: no operator, wrong method, a body that says nothing.
    const std::string moderator = make_token("mod-1", "Mo", "moderator", 600);
    CHECK(http_get(server.port(), "/admin/api/rooms", false, kDefaultWait, moderator).status ==
          403);
    CHECK(http_post(server.port(), "/admin/api/disconnect", R"({"subject":"sub-kim","reason":"x"})",
                    moderator)
              .status == 403);
    CHECK(http_get(server.port(), "/admin/api/disconnect", false, kDefaultWait, op).status == 405);
    CHECK(http_post(server.port(), "/admin/api/disconnect", "{not json", op).status == 400);
    CHECK(
        http_post(server.port(), "/admin/api/disconnect", R"({"subject":"sub-kim"})", op).status ==
        400);

    // The audit log names the operator and what they did.
    const boost::json::value audit = api_get(server, "/admin/audit?limit=50", op);
    bool recorded = false;
    for (const auto& entry : audit.at("entries").as_array()) {
        if (entry.at("action").as_string() == "api_disconnect") {
            recorded = entry.at("actor").as_string() == "Olive" &&
                       entry.at("target").as_string() == "sub-kim" &&
                       entry.at("reason").as_string() == "asked to";
        }
    }
    CHECK(recorded);
}

TEST_CASE(
    "server API: on two instances, counts and presence are cluster-wide and a disconnect "
    "reaches both within a second") {
    TwoInstances cluster("api");
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    const std::string op = make_token("op-1", "Olive", "operator", 600);
    const std::string kim_token = make_token("sub-kim", "Kim", "participant", 600);
    Client kim_on_a = signed_in_to(a, Encoding::binary, kim_token, "lobby");
    Client kim_on_b = signed_in_to(b, Encoding::binary, kim_token, "lobby");
    Client robin = guest_in(b, Encoding::binary, "grief-and-loss", "Robin");

    // Asked on A, the answer counts B's people too.
    const boost::json::value rooms = api_get(a, "/admin/api/rooms", op);
    CHECK(room_members(rooms, "lobby") == 2);
    CHECK(room_members(rooms, "grief-and-loss") == 1);
    CHECK(
        api_get(a, "/admin/api/presence?room=grief-and-loss", op).at("members").as_array().size() ==
        1);

    const auto started = std::chrono::steady_clock::now();
    CHECK(http_post(a.port(), "/admin/api/disconnect", R"({"subject":"sub-kim","reason":"r"})", op)
              .status == 200);
    CHECK(kim_on_a.wait_close(1s) == std::optional<std::uint16_t>(4004));
    CHECK(kim_on_b.wait_close(1s) == std::optional<std::uint16_t>(4004));
    CHECK(std::chrono::steady_clock::now() - started < 1500ms);
    robin.ping();
}

}  // namespace haven::test
