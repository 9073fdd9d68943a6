// Meetings: the hand queue, the floor, rounds and phases as the rules make them, and the
// meeting's course as facilitators move it (opened early, ended, extended, paused) and what
// that means for a post.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "meeting_people.hpp"
#include "meetings/meeting_clock.hpp"
#include "meetings/meeting_floor.hpp"
#include "meetings/meeting_gate.hpp"
#include "meetings/meeting_schedule.hpp"

using namespace haven;
using meetings::FloorActor;
using meetings::FloorContext;
using meetings::FloorRefusal;
using meetings::FloorStep;
using meetings::MeetingPhase;
using meetings::Unchanged;
using Action = v1::MeetingControl::Action;

namespace {

constexpr std::uint64_t kNow = test::kMeetingNow;
constexpr std::uint64_t kMinute = 60'000;

v1::Member member(const std::string& id, v1::Role role = v1::ROLE_PARTICIPANT) {
    return test::meeting_member(id, role);
}

FloorActor person(const std::string& id) {
    return FloorActor{member(id), "subject-" + id, false};
}
FloorActor facilitator(const std::string& id) {
    return FloorActor{member(id, v1::ROLE_PEER_SUPPORTER), "subject-" + id, true};
}

// A meeting in session (no schedule), with these people present in order of arrival.
struct Meeting {
    config::MeetingFloorConfig config;
    v1::MeetingState state;
    std::vector<v1::Member> present;
    std::uint64_t now_ms = kNow;

    FloorStep step(const FloorActor& actor, Action action, const std::string& member_id = {},
                   std::uint32_t seconds = 0) {
        v1::MeetingControl control;
        control.set_room_id("circle");
        control.set_action(action);
        control.set_member_id(member_id);
        control.set_seconds(seconds);
        return step(actor, control);
    }
    FloorStep step(const FloorActor& actor, const v1::MeetingControl& control) {
        const FloorContext context{config, meetings::meeting_now(nullptr, state, now_ms), now_ms,
                                   present, 50};
        FloorStep result = meetings::apply_control(state, control, actor, context);
        if (auto* next = std::get_if<v1::MeetingState>(&result)) state = *next;
        return result;
    }
    FloorStep set_phase(v1::MeetingState::Phase phase, std::optional<bool> floor_only = {}) {
        v1::MeetingControl control;
        control.set_action(v1::MeetingControl::SET_PHASE);
        control.set_phase(phase);
        if (floor_only) control.set_floor_only(*floor_only);
        return step(facilitator("f"), control);
    }
    // Takes the step and requires that it changed the state.
    void take(const FloorActor& actor, Action action, const std::string& member_id = {}) {
        REQUIRE(std::holds_alternative<v1::MeetingState>(step(actor, action, member_id)));
    }
    std::vector<std::string> hands() const {
        std::vector<std::string> ids;
        for (const auto& hand : state.hands()) ids.push_back(hand.member().member_id());
        return ids;
    }
    std::vector<std::string> round() const {
        std::vector<std::string> ids;
        for (const auto& turn : state.round()) ids.push_back(turn.member().member_id());
        return ids;
    }
};

v1::ErrorCode refusal(const FloorStep& step) {
    const auto* refused = std::get_if<FloorRefusal>(&step);
    return refused ? refused->code : v1::ERROR_UNSPECIFIED;
}

}  // namespace

TEST_CASE("meeting floor: hands queue in the order they go up, once each; lowering and skipping") {
    Meeting m;
    m.take(person("a"), v1::MeetingControl::RAISE_HAND);
    m.take(person("b"), v1::MeetingControl::RAISE_HAND);
    m.take(person("c"), v1::MeetingControl::RAISE_HAND);
    CHECK(m.hands() == std::vector<std::string>{"a", "b", "c"});
    CHECK(m.state.version() == 3);
    CHECK(m.state.hands(1).subject() == "subject-b");
    // A second raise keeps the first place, and changes nothing.
    CHECK(std::holds_alternative<Unchanged>(m.step(person("a"), v1::MeetingControl::RAISE_HAND)));
    CHECK(m.state.version() == 3);
    // Someone else's hand is for facilitators to lower.
    CHECK(refusal(m.step(person("a"), v1::MeetingControl::LOWER_HAND, "b")) == v1::FORBIDDEN);
    m.take(person("b"), v1::MeetingControl::LOWER_HAND);
    CHECK(m.hands() == std::vector<std::string>{"a", "c"});
    m.take(facilitator("f"), v1::MeetingControl::SKIP);
    CHECK(m.hands() == std::vector<std::string>{"c", "a"});
    CHECK(refusal(m.step(facilitator("f"), v1::MeetingControl::LOWER_HAND, "zz")) == v1::NOT_FOUND);
    CHECK(refusal(m.step(person("a"), v1::MeetingControl::LOWER_ALL)) == v1::FORBIDDEN);
    m.take(facilitator("f"), v1::MeetingControl::LOWER_ALL);
    CHECK(m.hands().empty());
    CHECK(m.state.by().member_id() == "f");
}

TEST_CASE("meeting floor: the floor goes to the first hand with a deadline, and comes back") {
    Meeting m;
    m.config.share_seconds = 180;
    m.present = {member("a"), member("b")};
    CHECK(refusal(m.step(facilitator("f"), v1::MeetingControl::GIVE_FLOOR)) == v1::NOT_FOUND);
    m.take(person("a"), v1::MeetingControl::RAISE_HAND);
    m.take(person("b"), v1::MeetingControl::RAISE_HAND);
    CHECK(refusal(m.step(person("b"), v1::MeetingControl::GIVE_FLOOR)) == v1::FORBIDDEN);
    m.take(facilitator("f"), v1::MeetingControl::GIVE_FLOOR);
    CHECK(m.state.floor().member().member_id() == "a");
    CHECK(m.state.floor_deadline_ms() == kNow + 180'000);
    CHECK(m.hands() == std::vector<std::string>{"b"});
    CHECK(meetings::holds_floor(m.state, "subject-a", "a"));
    CHECK_FALSE(meetings::holds_floor(m.state, "subject-b", "b"));
    // The holder cannot queue behind themselves; a passer-by cannot pass.
    CHECK(refusal(m.step(person("a"), v1::MeetingControl::RAISE_HAND)) == v1::BAD_REQUEST);
    CHECK(refusal(m.step(person("b"), v1::MeetingControl::PASS)) == v1::BAD_REQUEST);
    // A facilitator gives more time, from the deadline on.
    CHECK(refusal(m.step(facilitator("f"), v1::MeetingControl::EXTEND_SHARE, {}, 0)) ==
          v1::BAD_REQUEST);
    REQUIRE(std::holds_alternative<v1::MeetingState>(
        m.step(facilitator("f"), v1::MeetingControl::EXTEND_SHARE, {}, 60)));
    CHECK(m.state.floor_deadline_ms() == kNow + 240'000);
    m.take(person("a"), v1::MeetingControl::PASS);
    CHECK_FALSE(m.state.has_floor());
    CHECK(m.state.floor_deadline_ms() == 0);
    // Named: a member present who never raised a hand, for as long as the facilitator says.
    REQUIRE(std::holds_alternative<v1::MeetingState>(
        m.step(facilitator("f"), v1::MeetingControl::GIVE_FLOOR, "b", 30)));
    CHECK(m.state.floor().member().member_id() == "b");
    CHECK(m.state.floor_deadline_ms() == kNow + 30'000);
    CHECK(m.hands().empty());  // b's hand was taken with the floor
    CHECK(refusal(m.step(facilitator("f"), v1::MeetingControl::GIVE_FLOOR, "gone")) ==
          v1::NOT_FOUND);
}

TEST_CASE("meeting floor: a share is cut off at its deadline only in a room that asks for it") {
    Meeting m;
    m.config.share_seconds = 60;
    m.take(person("a"), v1::MeetingControl::RAISE_HAND);
    m.take(facilitator("f"), v1::MeetingControl::GIVE_FLOOR);
    CHECK_FALSE(meetings::cut_off_due(m.state, m.config, kNow + 61'000));  // cut_off off
    m.config.cut_off = true;
    CHECK_FALSE(meetings::cut_off_due(m.state, m.config, kNow + 59'000));
    const auto cut = meetings::cut_off_due(m.state, m.config, kNow + 60'000);
    REQUIRE(cut);
    CHECK_FALSE(cut->has_floor());
    CHECK(cut->version() == m.state.version() + 1);
}

TEST_CASE("meeting floor: a round gives everyone present the floor in turn, facilitators first") {
    Meeting m;
    m.present = {member("a"), member("f", v1::ROLE_PEER_SUPPORTER), member("b"), member("c")};
    m.take(facilitator("f"), v1::MeetingControl::START_ROUND);
    CHECK(m.state.phase() == v1::MeetingState::CHECK_IN);
    CHECK(m.state.floor_only());
    CHECK(m.state.floor().member().member_id() == "f");
    CHECK(m.round() == std::vector<std::string>{"a", "b", "c"});
    // b passes before their turn comes; f finishes and the floor goes on to a at once.
    m.take(person("b"), v1::MeetingControl::PASS);
    m.take(facilitator("f"), v1::MeetingControl::PASS);
    CHECK(m.state.floor().member().member_id() == "a");
    CHECK(m.round() == std::vector<std::string>{"c"});
    m.take(person("a"), v1::MeetingControl::PASS);
    CHECK(m.state.floor().member().member_id() == "c");
    m.take(person("c"), v1::MeetingControl::PASS);
    CHECK_FALSE(m.state.has_floor());
    CHECK(m.round().empty());

    Meeting arrival;
    arrival.config.round_order = config::RoundOrder::arrival;
    arrival.present = m.present;
    arrival.take(facilitator("f"), v1::MeetingControl::START_ROUND);
    CHECK(arrival.state.floor().member().member_id() == "a");
    CHECK(arrival.round() == std::vector<std::string>{"f", "b", "c"});

    Meeting shuffled;
    shuffled.config.round_order = config::RoundOrder::random;
    shuffled.present = m.present;
    shuffled.take(facilitator("f"), v1::MeetingControl::START_ROUND);
    std::vector<std::string> everyone = shuffled.round();
    everyone.push_back(shuffled.state.floor().member().member_id());
    std::sort(everyone.begin(), everyone.end());
    CHECK(everyone == std::vector<std::string>{"a", "b", "c", "f"});
}

TEST_CASE("meeting floor: phases carry their cross-talk mode unless the facilitator sets one") {
    Meeting m;
    REQUIRE(std::holds_alternative<v1::MeetingState>(m.set_phase(v1::MeetingState::SHARING)));
    CHECK(m.state.floor_only());
    REQUIRE(
        std::holds_alternative<v1::MeetingState>(m.set_phase(v1::MeetingState::OPEN_DISCUSSION)));
    CHECK_FALSE(m.state.floor_only());
    // Sharing with cross-talk allowed.
    REQUIRE(
        std::holds_alternative<v1::MeetingState>(m.set_phase(v1::MeetingState::SHARING, false)));
    CHECK(m.state.phase() == v1::MeetingState::SHARING);
    CHECK_FALSE(m.state.floor_only());
    CHECK(refusal(m.set_phase(v1::MeetingState::PHASE_UNSPECIFIED)) == v1::BAD_REQUEST);
    CHECK(refusal(m.set_phase(static_cast<v1::MeetingState::Phase>(42))) == v1::BAD_REQUEST);
    CHECK(refusal(m.step(person("a"), v1::MeetingControl::SET_PHASE)) == v1::FORBIDDEN);
}

TEST_CASE("meeting floor: in a floor-only phase a post is for the floor holder and facilitators") {
    Meeting m;
    REQUIRE(std::holds_alternative<v1::MeetingState>(m.set_phase(v1::MeetingState::SHARING)));
    m.take(person("a"), v1::MeetingControl::RAISE_HAND);
    m.take(facilitator("f"), v1::MeetingControl::GIVE_FLOOR);
    const auto refuses = [&](const std::string& id, v1::Role role = v1::ROLE_PARTICIPANT) {
        return meetings::meeting_refuses_post(nullptr, m.state, {role, "subject-" + id, id}, kNow);
    };
    CHECK_FALSE(refuses("a"));
    const auto out_of_turn = refuses("b");
    REQUIRE(out_of_turn);
    CHECK(out_of_turn->code == v1::FLOOR_HELD);
    CHECK_FALSE(refuses("f", v1::ROLE_PEER_SUPPORTER));
    CHECK_FALSE(refuses("m", v1::ROLE_MODERATOR));
    // The same person on another device (another session) holds the floor too.
    CHECK_FALSE(meetings::meeting_refuses_post(
        nullptr, m.state, {v1::ROLE_PARTICIPANT, "subject-a", "a-phone"}, kNow));
    REQUIRE(
        std::holds_alternative<v1::MeetingState>(m.set_phase(v1::MeetingState::OPEN_DISCUSSION)));
    CHECK_FALSE(refuses("b"));
}

TEST_CASE("meeting course: opened early, extended, ended, and a pause that runs out") {
    config::MeetingScheduleConfig rule;
    rule.time_zone = "UTC";
    rule.dates = {"2027-01-15 18:00", "2027-01-22 18:00"};
    rule.duration_minutes = 60;
    rule.doors_open_minutes = 10;
    const meetings::MeetingSchedule schedule(rule);
    const auto first = schedule.current_or_next(0);
    REQUIRE(first);
    const std::uint64_t doors = first->doors_open_ms;
    config::MeetingFloorConfig floor;
    v1::MeetingState state;
    const auto step = [&](const FloorActor& actor, Action action, std::uint64_t at,
                          std::uint32_t minutes = 0) {
        v1::MeetingControl control;
        control.set_action(action);
        control.set_minutes(minutes);
        const auto now = meetings::meeting_now(&schedule, state, at);
        const FloorContext context{floor, now, at, {}, 50};
        FloorStep result =
            meetings::apply_control(meetings::state_for(state, now), control, actor, context);
        if (auto* next = std::get_if<v1::MeetingState>(&result)) state = *next;
        return result;
    };
    const auto phase = [&](std::uint64_t at) {
        return meetings::meeting_now(&schedule, state, at).phase;
    };
    // An hour before the doors open: closed, hands too; a facilitator opens it.
    const std::uint64_t early = doors - 60 * kMinute;
    CHECK(phase(early) == MeetingPhase::scheduled);
    CHECK(refusal(step(person("a"), v1::MeetingControl::RAISE_HAND, early)) == v1::MEETING_CLOSED);
    CHECK(refusal(step(person("a"), v1::MeetingControl::START_MEETING, early)) == v1::FORBIDDEN);
    REQUIRE(std::holds_alternative<v1::MeetingState>(
        step(facilitator("f"), v1::MeetingControl::START_MEETING, early)));
    CHECK(state.occurrence_start_ms() == first->start_ms);
    CHECK(phase(early) == MeetingPhase::in_session);
    CHECK_FALSE(meetings::meeting_refuses_post(&schedule, state, {v1::ROLE_PARTICIPANT, "s", "m"},
                                               early + 1));
    // Extended by 30 minutes: still in session past the scheduled end.
    REQUIRE(std::holds_alternative<v1::MeetingState>(
        step(facilitator("f"), v1::MeetingControl::EXTEND_MEETING, first->end_ms - kMinute, 30)));
    CHECK(phase(first->end_ms + 20 * kMinute) == MeetingPhase::in_session);
    CHECK(phase(first->end_ms + 31 * kMinute) == MeetingPhase::scheduled);  // the next one
    // Ended by hand: the room waits for the next occurrence, and tells posters when.
    REQUIRE(std::holds_alternative<v1::MeetingState>(
        step(facilitator("f"), v1::MeetingControl::END_MEETING, first->end_ms)));
    const auto now = meetings::meeting_now(&schedule, state, first->end_ms + 1);
    REQUIRE(now.occurrence);
    CHECK(now.occurrence->start_ms == first->start_ms + 7 * 24 * 60 * kMinute);
    const auto closed = meetings::meeting_refuses_post(
        &schedule, state, {v1::ROLE_PARTICIPANT, "s", "m"}, first->end_ms + 1);
    REQUIRE(closed);
    CHECK(closed->code == v1::MEETING_CLOSED);
    CHECK(closed->retry_after_ms == now.occurrence->doors_open_ms - first->end_ms - 1);

    // The next occurrence starts fresh (no hands of last week), numbered on.
    const std::uint64_t second_start = now.occurrence->start_ms;
    const std::uint64_t version = state.version();
    REQUIRE(std::holds_alternative<v1::MeetingState>(
        step(person("a"), v1::MeetingControl::RAISE_HAND, second_start)));
    CHECK(state.occurrence_start_ms() == second_start);
    CHECK(state.version() == version + 1);
    CHECK(state.ended_ms() == 0);
    // Paused (the last facilitator left): closed until the pause ends, then over.
    state.set_paused_until_ms(second_start + 5 * kMinute);
    const auto paused = meetings::meeting_refuses_post(
        &schedule, state, {v1::ROLE_PARTICIPANT, "s", "m"}, second_start + kMinute);
    REQUIRE(paused);
    CHECK(paused->retry_after_ms == 4 * kMinute);
    CHECK(phase(second_start + 6 * kMinute) == MeetingPhase::ended);
}
