// The on-duty roster: reports replace an instance's people whole, our own echo is ignored, a
// silent instance is forgotten after the timeout, and a room is covered only by a moderator.
#include <doctest/doctest.h>

#include "moderation/duty_roster.hpp"

using haven::moderation::DutyRoster;
namespace v1 = haven::v1;

namespace {

v1::OnDuty duty(const std::string& handle, v1::Role role, std::vector<std::string> moderates,
                bool everywhere = false) {
    v1::OnDuty out;
    out.set_handle(handle);
    out.set_role(role);
    out.set_everywhere(everywhere);
    for (const auto& room : moderates) {
        out.add_room_ids(room);
        out.add_moderates(room);
    }
    return out;
}

v1::DutyReport report(const std::string& instance, const std::string& subject, v1::OnDuty who) {
    v1::DutyReport out;
    out.set_instance_id(instance);
    v1::DutyReport::Entry* entry = out.add_entries();
    entry->set_subject(subject);
    *entry->mutable_duty() = std::move(who);
    return out;
}

}  // namespace

TEST_CASE("duty roster: a room is covered by a moderator on duty for it, here or elsewhere") {
    DutyRoster roster("here", 15'000);
    CHECK_FALSE(roster.snapshot()->covers("lobby"));
    // A peer supporter on duty listens but cannot act on an alert.
    v1::OnDuty supporter = duty("Sam", v1::ROLE_PARTICIPANT, {});
    supporter.add_room_ids("lobby");
    CHECK(roster.set_local(1, "sam", supporter));
    CHECK_FALSE(roster.snapshot()->covers("lobby"));
    CHECK(roster.snapshot()->moderators() == 0);
    CHECK(roster.apply(report("there", "maya", duty("Maya", v1::ROLE_PARTICIPANT, {"lobby"})), 0));
    CHECK(roster.snapshot()->covers("lobby"));
    CHECK_FALSE(roster.snapshot()->covers("evening"));
    CHECK(roster.snapshot()->roster.on_duty_size() == 2);
    // A global moderator on duty everywhere covers every room.
    CHECK(roster.set_local(2, "gale", duty("Gale", v1::ROLE_MODERATOR, {}, true)));
    CHECK(roster.snapshot()->covers("evening"));
    CHECK(roster.snapshot()->moderators() == 2);
}

TEST_CASE("duty roster: reports replace an instance's people, and a silent instance is forgotten") {
    DutyRoster roster("here", 15'000);
    CHECK(roster.apply(report("there", "maya", duty("Maya", v1::ROLE_PARTICIPANT, {"lobby"})),
                       1'000));
    // The same report again changes nothing; our own report is never taken as another's.
    CHECK_FALSE(roster.apply(report("there", "maya", duty("Maya", v1::ROLE_PARTICIPANT, {"lobby"})),
                             5'000));
    CHECK_FALSE(
        roster.apply(report("here", "ghost", duty("Ghost", v1::ROLE_MODERATOR, {}, true)), 5'000));
    CHECK(roster.snapshot()->roster.on_duty_size() == 1);
    // Heard at 5 s: still there at 19.9 s, gone at 20 s.
    CHECK_FALSE(roster.expire(19'900));
    CHECK(roster.snapshot()->covers("lobby"));
    CHECK(roster.expire(20'000));
    CHECK_FALSE(roster.snapshot()->covers("lobby"));
    // An empty report (everyone there went off duty) empties that instance's part at once.
    CHECK(roster.apply(report("there", "maya", duty("Maya", v1::ROLE_PARTICIPANT, {"lobby"})),
                       21'000));
    v1::DutyReport empty;
    empty.set_instance_id("there");
    CHECK(roster.apply(empty, 22'000));
    CHECK(roster.snapshot()->roster.on_duty_size() == 0);
}

TEST_CASE("duty roster: one person in two tabs is one entry, with the rooms of both") {
    DutyRoster roster("here", 15'000);
    v1::OnDuty morning = duty("Maya", v1::ROLE_PARTICIPANT, {"lobby"});
    morning.set_since_ms(100);
    v1::OnDuty evening = duty("Maya", v1::ROLE_PARTICIPANT, {"evening"});
    evening.set_since_ms(50);
    roster.set_local(1, "maya", morning);
    roster.set_local(2, "maya", evening);
    const v1::DutyReport mine = roster.local_report();
    REQUIRE(mine.entries_size() == 1);
    CHECK(mine.entries(0).duty().moderates_size() == 2);
    CHECK(mine.entries(0).duty().since_ms() == 50);
    // The same person also reported by another instance: still one entry.
    roster.apply(report("there", "maya", duty("Maya", v1::ROLE_PARTICIPANT, {"garden"})), 0);
    REQUIRE(roster.snapshot()->roster.on_duty_size() == 1);
    CHECK(roster.snapshot()->covers("garden"));
    // One tab closing leaves the other's rooms.
    CHECK(roster.clear_local(2));
    CHECK_FALSE(roster.clear_local(2));
    CHECK(roster.snapshot()->covers("lobby"));
    CHECK_FALSE(roster.snapshot()->covers("evening"));
}

TEST_CASE("duty roster: one instance's report counts for at most kMaxReportEntries people") {
    DutyRoster roster("here", 15'000);
    v1::DutyReport flood;
    flood.set_instance_id("broken");
    for (std::size_t i = 0; i < DutyRoster::kMaxReportEntries + 5; ++i) {
        v1::DutyReport::Entry* entry = flood.add_entries();
        entry->set_subject("s" + std::to_string(i));
        *entry->mutable_duty() = duty("Mod" + std::to_string(i), v1::ROLE_MODERATOR, {"lobby"});
    }
    CHECK(roster.apply(flood, 0));
    CHECK(static_cast<std::size_t>(roster.snapshot()->roster.on_duty_size()) ==
          DutyRoster::kMaxReportEntries);
}
