// What operators watch: the shipped Grafana dashboard and Prometheus rules name only metrics
// the server exports, and the safety metrics follow a crisis alert from the post that raised
// it to the moderator who dealt with it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "integration/helpers.hpp"

#ifndef HAVEN_SOURCE_DIR
#error "HAVEN_SOURCE_DIR must name the source tree"
#endif

namespace haven::test {
namespace {

std::string read_source_file(const std::string& relative) {
    std::ifstream in(std::string(HAVEN_SOURCE_DIR) + "/" + relative);
    REQUIRE(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Every series name /metrics exports (a histogram also as its _bucket, _sum and _count).
std::set<std::string> exported_metrics(const ServerProcess& server) {
    const HttpResult result = http_get(server.port(), "/metrics", server.tls());
    REQUIRE(result.status == 200);
    std::set<std::string> names;
    std::istringstream lines(result.body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') continue;
        names.insert(line.substr(0, line.find_first_of("{ ")));
    }
    return names;
}

std::set<std::string> named_metrics(const std::string& text) {
    static const std::regex kName("haven_[a-z0-9_]+");
    std::set<std::string> names;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
         it != std::sregex_iterator(); ++it) {
        names.insert(it->str());
    }
    return names;
}

TEST_CASE("metrics: every metric the Grafana dashboard and the alert rules name is exported") {
    ServerProcess server;
    require_started(server);
    const std::set<std::string> exported = exported_metrics(server);
    for (const char* file :
         {"config/grafana/haven-dashboard.json", "config/prometheus/haven-alerts.yml"}) {
        CAPTURE(file);
        const std::set<std::string> named = named_metrics(read_source_file(file));
        CHECK(named.size() >= 5);
        for (const std::string& name : named) {
            CAPTURE(name);
            CHECK(exported.count(name) == 1);
        }
    }
    // Each rule says what to do, not only that something is wrong.
    const std::string rules = read_source_file("config/prometheus/haven-alerts.yml");
    std::size_t alerts = 0, summaries = 0;
    for (std::size_t at = rules.find("- alert:"); at != std::string::npos;
         at = rules.find("- alert:", at + 1)) {
        ++alerts;
    }
    for (std::size_t at = rules.find("summary:"); at != std::string::npos;
         at = rules.find("summary:", at + 1)) {
        ++summaries;
    }
    CHECK(alerts >= 5);
    CHECK(summaries == alerts);
    // Prometheus's own check, where its tool is installed.
    if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
        const std::string check = "promtool check rules " + std::string(HAVEN_SOURCE_DIR) +
                                  "/config/prometheus/haven-alerts.yml >/dev/null";
        CHECK(std::system(check.c_str()) == 0);
    }
}

v1::ClientMessage msg_resolve(const std::string& room, std::uint64_t seq) {
    v1::ClientMessage message;
    message.mutable_moderate()->set_room_id(room);
    message.mutable_moderate()->set_action(v1::RESOLVE_FLAGS);
    message.mutable_moderate()->set_seq(seq);
    message.mutable_moderate()->set_reason("reached out privately");
    return message;
}

std::optional<std::uint64_t> urgent_waiting(const ServerProcess& server) {
    return metric(server, "haven_moderation_queue_items{kind=\"urgent\"}");
}

TEST_CASE("metrics: the safety gauges follow a crisis alert until a moderator deals with it") {
    ServerProcess server({.toml = jwt_auth_toml() + "[moderation]\ncrisis_dir = \"" +
                                  std::string(HAVEN_SOURCE_DIR) + "/config/crisis\"\n"});
    require_started(server);
    CHECK(metric(server, "haven_moderators_online") == 0u);
    Client moderator(server, Encoding::binary);
    moderator.hello_token(make_token("sub-mod", "Mo", "moderator", 3600));
    moderator.join("lobby");
    CHECK(metric(server, "haven_moderators_online") == 1u);

    Client author = guest_in(server, Encoding::binary, "lobby");
    const std::uint64_t seq = author.post("lobby", "tonight I want to kill myself").seq();
    CHECK(eventually([&] { return urgent_waiting(server) == 1u; }));
    CHECK(metric(server, "haven_crisis_alerts_total{severity=\"urgent\"}") == 1u);
    CHECK(metric(server, "haven_moderation_actions_total{action=\"crisis_detected\"}") == 1u);
    // The age of the oldest urgent item grows while nobody answers.
    CHECK(eventually(
        [&] {
            const HttpResult result = http_get(server.port(), "/metrics", server.tls());
            return result.body.find("haven_moderation_oldest_urgent_seconds 0.000") ==
                       std::string::npos &&
                   result.body.find("haven_moderation_oldest_urgent_seconds ") != std::string::npos;
        },
        5s, 100ms));

    const v1::ServerMessage done = moderator.reply(moderator.send(msg_resolve("lobby", seq)));
    CHECK(done.has_ack());
    CHECK(eventually([&] { return urgent_waiting(server) == 0u; }));
    CHECK(metric(server, "haven_moderation_actions_total{action=\"resolve_flags\"}") == 1u);
    const HttpResult after = http_get(server.port(), "/metrics", server.tls());
    CHECK(after.body.find("haven_moderation_oldest_urgent_seconds 0.000\n") != std::string::npos);
    CHECK(after.body.find("haven_ready 1\n") != std::string::npos);
    CHECK(after.body.find("haven_broker_up 1\n") != std::string::npos);

    moderator.ws().close();
    CHECK(eventually([&] { return metric(server, "haven_moderators_online") == 0u; }));
}

}  // namespace
}  // namespace haven::test
