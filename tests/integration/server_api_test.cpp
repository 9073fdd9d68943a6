// The server API's calls beyond reading the audit log: publish, history, history_remove,
// info and batch, on one instance and across two on Redis.
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include <boost/json.hpp>

#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"

namespace haven::test {
namespace {

const std::string kOperator = make_token("op-1", "Olive", "operator", 600);

boost::json::value call(const ServerProcess& server, const std::string& path,
                        unsigned expected_status = 200, const std::string& body = "") {
    const HttpResult result = body.empty()
                                  ? http_get(server.port(), path, false, kDefaultWait, kOperator)
                                  : http_post(server.port(), path, body, kOperator);
    INFO(path << " -> " << result.status << " " << result.body);
    REQUIRE(result.status == expected_status);
    return boost::json::parse(result.body);
}

bool is_notice(const v1::ServerMessage& message, const std::string& text) {
    return message.has_event() && message.event().has_system_notice() &&
           message.event().system_notice().text() == text;
}

bool is_cleared(const v1::ServerMessage& message) {
    return message.has_event() && message.event().has_history_cleared();
}

bool audited(const ServerProcess& server, const std::string& action, const std::string& target) {
    const boost::json::value audit = call(server, "/admin/audit?limit=100");
    for (const auto& entry : audit.at("entries").as_array()) {
        if (entry.at("action").as_string() == action && entry.at("target").as_string() == target &&
            entry.at("actor").as_string() == "Olive") {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("server API: publish puts a notice from the service into a room, live and in history") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    Client reader = guest_in(server, Encoding::json, "lobby", "Robin");
    Client elsewhere = guest_in(server, Encoding::binary, "grief-and-loss", "Sky");

    const boost::json::value published =
        call(server, "/admin/api/publish", 200,
             R"({"room":"lobby","text":"Haven restarts at 22:00 for five minutes."})");
    CHECK(published.at("seq").as_int64() > 0);
    const auto live = reader.next(
        [](const auto& m) { return is_notice(m, "Haven restarts at 22:00 for five minutes."); });
    REQUIRE(live);
    CHECK_FALSE(live->event().has_posted());  // never a member's post
    // Another room hears nothing of it.
    elsewhere.ping();
    for (const auto& message : elsewhere.inbox()) CHECK_FALSE(message.event().has_system_notice());

    // Someone who comes later finds it in the room's history.
    Client later(server, Encoding::binary);
    later.hello_guest("Ash");
    const v1::Joined joined = later.join("lobby");
    bool in_history = false;
    for (const auto& event : joined.events()) {
        in_history |= event.has_system_notice() &&
                      event.seq() == static_cast<std::uint64_t>(published.at("seq").as_int64());
    }
    CHECK(in_history);
    CHECK(audited(server, "api_publish", "room lobby"));

    // What is refused: no such room, no text, a notice longer than a post may be, bad UTF-8.
    call(server, "/admin/api/publish", 404, R"({"room":"nowhere","text":"hi"})");
    call(server, "/admin/api/publish", 400, R"({"room":"lobby"})");
    call(server, "/admin/api/publish", 400,
         R"({"room":"lobby","text":")" + std::string(4001, 'a') + R"("})");
    call(server, "/admin/api/publish", 400, "{\"room\":\"lobby\",\"text\":\"\\udc00\"}");
    CHECK(http_post(server.port(), "/admin/api/publish", R"({"room":"lobby","text":"hi"})",
                    make_token("mod-1", "Mo", "moderator", 600))
              .status == 403);
}

TEST_CASE("server API: history shows hidden posts, marked, to operators only") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    Client author = guest_in(server, Encoding::binary, "lobby", "Robin");
    const v1::Ack kept = author.post("lobby", "first, and kept");
    const v1::Ack hidden = author.post("lobby", "second, and hidden");
    Client moderator(server, Encoding::binary);
    moderator.hello_token(make_token("mod-1", "Mo", "moderator", 600));
    moderator.join("lobby");
    v1::ClientMessage hide;
    hide.mutable_moderate()->set_room_id("lobby");
    hide.mutable_moderate()->set_action(v1::HIDE_POST);
    hide.mutable_moderate()->set_seq(hidden.seq());
    REQUIRE(moderator.reply(moderator.send(hide)).has_ack());

    const boost::json::value page = call(server, "/admin/api/history?room=lobby&limit=50");
    bool saw_kept = false, saw_hidden = false;
    for (const auto& event : page.at("events").as_array()) {
        if (!event.as_object().contains("posted")) continue;
        const std::string seq(event.at("seq").as_string());  // uint64: a string in JSON
        if (seq == std::to_string(kept.seq())) {
            saw_kept = !event.at("hidden").as_bool();
        } else if (seq == std::to_string(hidden.seq())) {
            saw_hidden = event.at("hidden").as_bool() &&
                         event.at("posted").at("text").as_string() == "second, and hidden";
        }
    }
    CHECK(saw_kept);
    CHECK(saw_hidden);
    CHECK(audited(server, "api_history", "room lobby"));

    // Paging back: only what came before.
    const boost::json::value older =
        call(server, "/admin/api/history?room=lobby&before=" + std::to_string(hidden.seq()));
    for (const auto& event : older.at("events").as_array()) {
        CHECK(std::stoull(std::string(event.at("seq").as_string())) < hidden.seq());
    }

    // After a removal the history starts with it, here as on Redis.
    const boost::json::value removed =
        call(server, "/admin/api/history_remove", 200, R"({"room":"lobby","reason":"asked to"})");
    const boost::json::value emptied = call(server, "/admin/api/history?room=lobby");
    const auto& left = emptied.at("events").as_array();
    REQUIRE(left.size() == 1);
    CHECK(left[0].as_object().contains("historyCleared"));
    CHECK(std::string(left[0].at("seq").as_string()) ==
          std::to_string(removed.at("clearedBefore").as_int64()));
    call(server, "/admin/api/history?room=nowhere", 404);
    call(server, "/admin/api/history?room=lobby&limit=0", 400);
    call(server, "/admin/api/history?room=lobby&colour=red", 400);
}

TEST_CASE("server API: batch runs its calls in order and refuses a malformed one before any runs") {
    ServerProcess server({.toml = jwt_auth_toml()});
    require_started(server);
    Client reader = guest_in(server, Encoding::binary, "lobby", "Robin");

    const boost::json::value replies = call(server, "/admin/api/batch", 200, R"({"calls":[
        {"method":"POST","path":"/admin/api/publish","body":{"room":"lobby","text":"one"}},
        {"method":"POST","path":"/admin/api/publish","body":{"room":"lobby","text":"two"}},
        {"method":"GET","path":"/admin/api/presence_stats?room=lobby"},
        {"method":"POST","path":"/admin/api/publish","body":{"room":"nowhere","text":"x"}}]})");
    const auto& list = replies.at("replies").as_array();
    REQUIRE(list.size() == 4);
    CHECK(list[0].at("status").as_int64() == 200);
    CHECK(list[1].at("status").as_int64() == 200);
    CHECK(list[1].at("body").at("seq").as_int64() == list[0].at("body").at("seq").as_int64() + 1);
    CHECK(list[2].at("body").at("connections").as_int64() == 1);
    CHECK(list[3].at("status").as_int64() == 404);  // one call failing does not stop the rest
    REQUIRE(reader.next([](const auto& m) { return is_notice(m, "one"); }));
    REQUIRE(reader.next([](const auto& m) { return is_notice(m, "two"); }));

    // Nothing runs when one call is malformed, a batch nests, or it holds too many.
    call(server, "/admin/api/batch", 400, R"({"calls":[
        {"method":"POST","path":"/admin/api/publish","body":{"room":"lobby","text":"three"}},
        {"method":"DELETE","path":"/admin/api/rooms"}]})");
    call(server, "/admin/api/batch", 400,
         R"({"calls":[{"method":"POST","path":"/admin/api/batch","body":{"calls":[]}}]})");
    std::string many = R"({"calls":[)";
    for (int i = 0; i < 51; ++i)
        many += std::string(i ? "," : "") + R"({"method":"GET","path":"/admin/api/info"})";
    call(server, "/admin/api/batch", 400, many + "]}");
    call(server, "/admin/api/batch", 400, R"({"calls":[]})");
    const auto after = reader.collect(300ms);
    for (const auto& message : after) CHECK_FALSE(is_notice(message, "three"));
}

TEST_CASE(
    "server API on two instances: a notice and a history removal reach both, and info lists "
    "both with their connections") {
    TwoInstances cluster("server-api");
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    Client on_a = guest_in(a, Encoding::binary, "lobby", "Robin");
    Client on_b = guest_in(b, Encoding::json, "lobby", "Sky");
    Client idle_on_b = guest_in(b, Encoding::binary, "grief-and-loss", "Ash");
    for (int i = 0; i < 3; ++i) on_a.post("lobby", "before the removal " + std::to_string(i));

    call(a, "/admin/api/publish", 200, R"({"room":"lobby","text":"from A"})");
    CHECK(on_b.next([](const auto& m) { return is_notice(m, "from A"); }));

    // Removed through B: A's member is told, and a newcomer on A finds only what came after.
    const boost::json::value removed =
        call(b, "/admin/api/history_remove", 200, R"({"room":"lobby","reason":"a request"})");
    const auto cleared_before = static_cast<std::uint64_t>(removed.at("clearedBefore").as_int64());
    const auto live = on_a.next(is_cleared);
    REQUIRE(live);
    CHECK(live->event().seq() == cleared_before);
    CHECK(on_b.next(is_cleared));
    on_b.post("lobby", "after the removal");
    Client newcomer(a, Encoding::binary);
    newcomer.hello_guest("Kit");
    const v1::Joined joined = newcomer.join("lobby");
    REQUIRE(joined.events_size() >= 1);
    CHECK(joined.events(0).has_history_cleared());
    for (const auto& event : joined.events()) {
        CHECK(event.seq() >= cleared_before);
        if (event.has_posted()) CHECK(event.posted().text() == "after the removal");
    }
    // A reconnecting member who asks from before the removal is told history is gone.
    Client returning(b, Encoding::binary);
    returning.hello_guest("Lee");
    CHECK_FALSE(returning.join("lobby", 1).recovered());
    CHECK(audited(a, "api_history_remove", "room lobby"));
    call(a, "/admin/api/history_remove", 400, R"({"room":"lobby"})");

    // Both instances, each with its own connections, asked on either.
    REQUIRE(eventually(
        [&] {
            const boost::json::value info = call(a, "/admin/api/info");
            const auto& instances = info.at("instances").as_array();
            if (instances.size() != 2) return false;
            std::int64_t total = 0;
            for (const auto& instance : instances) {
                if (instance.at("state").as_string() != "ready") return false;
                total += std::stoll(std::string(instance.at("connections").as_string()));
            }
            // Robin on A; Sky, Ash and Lee on B; Kit on A.
            return total == 5;
        },
        10s));
    const boost::json::value from_b = call(b, "/admin/api/info");
    CHECK(from_b.at("instances").as_array().size() == 2);
    for (const auto& instance : from_b.at("instances").as_array()) {
        CHECK(instance.at("version").as_string() == "0.1.0");
    }
    idle_on_b.ping();
}

TEST_CASE("server API on two instances: a killed instance leaves info when its heartbeat stops") {
    TwoInstances cluster("server-api-kill", kFastPosts);
    const ServerProcess& a = *cluster.first;
    REQUIRE(eventually(
        [&] { return call(a, "/admin/api/info").at("instances").as_array().size() == 2; }));
    cluster.second->stop(SIGKILL);
    REQUIRE(eventually(
        [&] { return call(a, "/admin/api/info").at("instances").as_array().size() == 1; }, 20s));
    CHECK(call(a, "/admin/api/info").at("instances").at(0).at("state").as_string() == "ready");
}

}  // namespace haven::test
