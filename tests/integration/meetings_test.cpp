// Meetings on a real server: a meeting room's next occurrence in the room list and in Joined,
// and a room that is read-only for participants outside its session while facilitators and
// moderators may write.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <date/date.h>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

// A local time in UTC, `offset` from now, as a schedule's dates entry ("YYYY-MM-DD HH:MM").
std::string utc_date_time(std::chrono::minutes offset) {
    const auto at =
        std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now()) + offset;
    return date::format("%F %R", at);
}

std::string meeting_rooms() {
    // One meeting in session (begun five minutes ago), one whose doors open in a day.
    return jwt_auth_toml() +
           "[[rooms]]\nid = \"lobby\"\ntitle = \"Lobby\"\n"
           "[[rooms]]\nid = \"open-circle\"\ntitle = \"Open circle\"\nkind = \"meeting\"\n"
           "schedule = { time_zone = \"UTC\", dates = [\"" +
           utc_date_time(std::chrono::minutes(-5)) +
           "\"], duration_minutes = 120 }\n"
           "[[rooms]]\nid = \"later-circle\"\ntitle = \"Later circle\"\nkind = \"meeting\"\n"
           "schedule = { time_zone = \"UTC\", dates = [\"" +
           utc_date_time(std::chrono::hours(24)) + "\"], doors_open_minutes = 10 }\n";
}

const v1::RoomInfo* room_in(const v1::Welcome& welcome, const std::string& id) {
    for (const v1::RoomInfo& room : welcome.rooms()) {
        if (room.id() == id) return &room;
    }
    return nullptr;
}

}  // namespace

TEST_CASE(
    "meetings: the room list and Joined carry the next meeting; outside its session a meeting "
    "is read-only for participants, who are told when its doors open; facilitators may write") {
    ServerProcess server({.toml = meeting_rooms()});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client robin(server, encoding);
        const v1::Welcome welcome = robin.hello_guest("Robin");
        const v1::RoomInfo* open = room_in(welcome, "open-circle");
        const v1::RoomInfo* later = room_in(welcome, "later-circle");
        const v1::RoomInfo* lobby = room_in(welcome, "lobby");
        REQUIRE(open != nullptr);
        REQUIRE(later != nullptr);
        REQUIRE(lobby != nullptr);
        CHECK_FALSE(lobby->has_next_meeting());
        REQUIRE(open->has_next_meeting());
        CHECK(open->next_meeting().start_ms() < welcome.server_time_ms());
        CHECK(open->next_meeting().end_ms() > welcome.server_time_ms());
        REQUIRE(later->has_next_meeting());
        const v1::MeetingTimes& next = later->next_meeting();
        CHECK(next.time_zone() == "UTC");
        CHECK(next.doors_open_ms() == next.start_ms() - 10 * 60'000);
        CHECK(next.start_ms() > welcome.server_time_ms() + 23 * 3'600'000ULL);

        // In session: everyone posts.
        robin.join("open-circle");
        CHECK(robin.post("open-circle", "hello everyone").seq() > 0);
        // Not yet: refused with the wait until the doors open, and nothing is stored.
        const v1::Joined joined = robin.join("later-circle");
        CHECK(joined.room().next_meeting().start_ms() == next.start_ms());
        const v1::ServerMessage refused =
            robin.reply(robin.send(msg_post("later-circle", "is anyone here?")));
        REQUIRE(refused.has_error());
        CHECK(refused.error().code() == v1::MEETING_CLOSED);
        const std::uint64_t wait = refused.error().retry_after_ms();
        CHECK(wait > 0);
        CHECK(wait <= next.doors_open_ms() - welcome.server_time_ms());
        CHECK(wait + 60'000 >= next.doors_open_ms() - welcome.server_time_ms());
    }
    // A facilitator and a moderator may write before the doors open.
    for (const char* role : {"peer_supporter", "moderator"}) {
        CAPTURE(role);
        Client host(server, Encoding::binary);
        host.hello_token(make_token(std::string("host-") + role, "Host", role, 600));
        host.join("later-circle");
        CHECK(host.post("later-circle", "Welcome, we start at seven.").seq() > 0);
    }
}

TEST_CASE(
    "meetings: a Join needs the meeting's agreements accepted, and gets their text until then; "
    "acceptance is audited and counted; facilitators join without") {
    const std::string agreements =
        "agreements = { version = \"2026-11\", text = \"What is said here stays here.\\nWe "
        "listen without fixing.\" }\n";
    ServerProcess server({.toml = jwt_auth_toml() +
                                  "[[rooms]]\nid = \"lobby\"\ntitle = \"Lobby\"\n"
                                  "[[rooms]]\nid = \"circle\"\ntitle = \"Circle\"\nkind = "
                                  "\"meeting\"\n" +
                                  agreements});
    require_started(server);
    Client robin(server, Encoding::json);
    const v1::Welcome welcome = robin.hello_guest("Robin");
    const v1::RoomInfo* circle = room_in(welcome, "circle");
    REQUIRE(circle != nullptr);
    CHECK(circle->agreements_version() == "2026-11");
    CHECK(room_in(welcome, "lobby")->agreements_version().empty());

    for (const std::string& offered : {std::string(), std::string("2025-01")}) {
        CAPTURE(offered);
        v1::ClientMessage join = msg_join("circle");
        join.mutable_join()->set_accept_agreements(offered);
        const v1::ServerMessage refused = robin.reply(robin.send(join));
        REQUIRE(refused.has_error());
        CHECK(refused.error().code() == v1::AGREEMENTS_REQUIRED);
        CHECK(refused.error().agreements().version() == "2026-11");
        CHECK(refused.error().agreements().text() ==
              "What is said here stays here.\nWe listen without fixing.");
    }
    // Not a member: posting is refused.
    CHECK(robin.error_reply(robin.send(msg_post("circle", "hi"))) == v1::NOT_JOINED);
    v1::ClientMessage join = msg_join("circle");
    join.mutable_join()->set_accept_agreements("2026-11");
    REQUIRE(robin.reply(robin.send(join)).has_joined());
    CHECK(metric(server, "haven_moderation_actions_total{action=\"agreements_accepted\"}") == 1u);

    Client host(server, Encoding::binary);
    host.hello_token(make_token("host-1", "Ash", "peer_supporter", 600));
    host.join("circle");  // a facilitator holds the agreements
    const HttpResult audit = http_get(server.port(), "/admin/audit?room=circle&limit=10", false,
                                      kDefaultWait, make_token("op-1", "Olive", "operator", 600));
    CHECK(audit.body.find("agreements_accepted") != std::string::npos);
    CHECK(audit.body.find("agreements 2026-11") != std::string::npos);
    CHECK(audit.body.find("Robin") != std::string::npos);
}

}  // namespace haven::test
