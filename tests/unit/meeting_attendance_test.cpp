// Meetings: what the sweep keeps right as people come and go: a hand's grace, a hand that
// follows its person to a new session, the pause when the last facilitator leaves and the
// way on when one is back, and the cut-off of a share whose time is up.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "meeting_people.hpp"
#include "meetings/meeting_attendance.hpp"

using namespace haven;
using meetings::Absences;
using meetings::Attendance;
using meetings::MeetingNow;
using meetings::MeetingPhase;

namespace {

constexpr std::uint64_t kNow = test::kMeetingNow;

v1::Member member(const std::string& id, v1::Role role = v1::ROLE_PARTICIPANT) {
    return test::meeting_member(id, role);
}

v1::MeetingSpeaker hand(const std::string& id) {
    v1::MeetingSpeaker speaker;
    *speaker.mutable_member() = member(id);
    speaker.set_subject("subject-" + id);
    return speaker;
}

MeetingNow in_session() {
    MeetingNow now;
    now.phase = MeetingPhase::in_session;
    return now;
}

struct Sweep {
    config::MeetingFloorConfig config;
    v1::MeetingState state;
    Attendance attendance;
    Absences absences;

    // One sweep at `at`; applies and returns whether it changed the state.
    bool at(std::uint64_t at_ms) {
        meetings::note_absences(state, attendance, at_ms, absences);
        MeetingNow now = in_session();
        if (state.paused_until_ms() > at_ms) now.paused_until_ms = state.paused_until_ms();
        auto next = meetings::tend(state, now, attendance, absences, config, at_ms);
        if (!next) return false;
        CHECK(next->version() == state.version() + 1);
        state = *next;
        return true;
    }
    std::vector<std::string> hands() const {
        std::vector<std::string> ids;
        for (const auto& h : state.hands()) ids.push_back(h.member().member_id());
        return ids;
    }
};

}  // namespace

TEST_CASE(
    "meeting sweep: a hand whose person left keeps its place for the grace, then comes down") {
    Sweep s;
    s.config.hand_grace_seconds = 120;
    for (const char* id : {"a", "b", "c"}) *s.state.add_hands() = hand(id);
    s.attendance.present = {member("a"), member("c")};  // b's connection dropped
    CHECK_FALSE(s.at(kNow));
    CHECK_FALSE(s.at(kNow + 119'000));
    CHECK(s.hands() == std::vector<std::string>{"a", "b", "c"});
    CHECK(s.at(kNow + 120'000));
    CHECK(s.hands() == std::vector<std::string>{"a", "c"});
    CHECK_FALSE(s.state.has_by());  // the server's step
    // Back in time: the absence ends, and a new one starts its grace afresh.
    *s.state.add_hands() = hand("d");
    s.attendance.present.push_back(member("d"));
    CHECK_FALSE(s.at(kNow + 130'000));
    CHECK(s.absences.hands.empty());
}

TEST_CASE("meeting sweep: a hand follows its person to their new session, keeping its place") {
    Sweep s;
    for (const char* id : {"a", "b", "c"}) *s.state.add_hands() = hand(id);
    // b is back on this instance as session b2: the same subject.
    s.attendance.present = {member("a"), member("b2"), member("c")};
    s.attendance.local = {{"subject-b", member("b2")}};
    CHECK(s.at(kNow));
    CHECK(s.hands() == std::vector<std::string>{"a", "b2", "c"});
    CHECK(s.state.hands(1).subject() == "subject-b");
    CHECK_FALSE(s.at(kNow + 1000));
    // Someone else's session with another subject does not take it.
    *s.state.add_hands() = hand("e");
    s.attendance.local = {{"subject-x", member("x")}};
    s.attendance.present.push_back(member("x"));
    s.config.hand_grace_seconds = 60;
    CHECK_FALSE(s.at(kNow + 2000));
    CHECK(s.hands().back() == "e");
}

TEST_CASE(
    "meeting sweep: the last facilitator leaving pauses a meeting they led, after a moment; "
    "one back (or a moderator) goes on") {
    Sweep s;
    s.config.facilitator_grace_seconds = 300;
    s.attendance.present = {member("a"), member("f", v1::ROLE_PEER_SUPPORTER)};
    CHECK_FALSE(s.at(kNow));
    s.attendance.present = {member("a")};
    CHECK_FALSE(s.at(kNow + 1000));  // nobody led it yet: nothing to pause
    s.state.set_facilitated(true);
    CHECK_FALSE(s.at(kNow + 2000));
    CHECK_FALSE(s.at(kNow + 5999));  // a reconnect's moment
    CHECK(s.at(kNow + 6000));
    CHECK(s.state.paused_until_ms() == kNow + 6000 + 300'000);
    CHECK_FALSE(s.at(kNow + 7000));
    s.attendance.present = {member("a"), member("m", v1::ROLE_MODERATOR)};
    CHECK(s.at(kNow + 8000));
    CHECK(s.state.paused_until_ms() == 0);
    // facilitator_grace_seconds 0: never paused.
    Sweep never;
    never.config.facilitator_grace_seconds = 0;
    never.state.set_facilitated(true);
    never.attendance.present = {member("a")};
    CHECK_FALSE(never.at(kNow));
    CHECK_FALSE(never.at(kNow + 60'000));
}

TEST_CASE("meeting sweep: a share is cut off when its time is up, in a room that asks for it") {
    Sweep s;
    s.config.share_seconds = 60;
    s.config.cut_off = true;
    *s.state.mutable_floor() = hand("a");
    s.state.set_floor_deadline_ms(kNow + 60'000);
    s.attendance.present = {member("a")};
    CHECK_FALSE(s.at(kNow + 59'000));
    CHECK(s.at(kNow + 60'000));
    CHECK_FALSE(s.state.has_floor());
}
