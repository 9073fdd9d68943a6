// Meetings: occurrences from a weekly rule in a time zone across daylight saving, one-off
// dates, the late-entry cut-off, and where an occurrence stands by the clock.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include <date/date.h>

#include "meetings/meeting_gate.hpp"
#include "meetings/meeting_schedule.hpp"

using haven::config::MeetingScheduleConfig;
using haven::meetings::MeetingPhase;
using haven::meetings::MeetingSchedule;
using haven::meetings::phase_at;

namespace {

// A UTC instant as ms: "2026-03-26 18:00" is 2026-03-26T18:00Z.
std::uint64_t utc_ms(int y, unsigned m, unsigned d, int hour, int minute) {
    const date::sys_days day{date::year{y} / date::month{m} / date::day{d}};
    const auto at = day + std::chrono::hours{hour} + std::chrono::minutes{minute};
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
}

constexpr std::uint64_t kMinute = 60'000;

MeetingScheduleConfig weekly(std::string zone, std::string day, std::string start) {
    MeetingScheduleConfig config;
    config.time_zone = std::move(zone);
    config.days = {std::move(day)};
    config.start = std::move(start);
    config.duration_minutes = 90;
    config.doors_open_minutes = 10;
    config.late_entry_minutes = 15;
    return config;
}

}  // namespace

TEST_CASE("meetings: a weekly meeting keeps its local time across daylight saving, in Berlin") {
    // Thursdays at 19:00 in Berlin: UTC+1 until 29 March 2026, UTC+2 after.
    const MeetingSchedule schedule(weekly("Europe/Berlin", "thu", "19:00"));
    const auto before = schedule.current_or_next(utc_ms(2026, 3, 20, 12, 0));
    REQUIRE(before);
    CHECK(before->start_ms == utc_ms(2026, 3, 26, 18, 0));  // 19:00 CET
    CHECK(before->doors_open_ms == before->start_ms - 10 * kMinute);
    CHECK(before->late_entry_until_ms == before->start_ms + 15 * kMinute);
    CHECK(before->end_ms == before->start_ms + 90 * kMinute);
    const auto after = schedule.current_or_next(before->end_ms);  // the week after the change
    REQUIRE(after);
    CHECK(after->start_ms == utc_ms(2026, 4, 2, 17, 0));  // 19:00 CEST, an hour earlier in UTC
}

TEST_CASE("meetings: and in New York, whose clocks change on another date") {
    // Tuesdays at 18:30 in New York: UTC-5 until 8 March 2026, UTC-4 from then; Berlin's
    // change three weeks later does not move it.
    const MeetingSchedule schedule(weekly("America/New_York", "tue", "18:30"));
    const auto march_3 = schedule.current_or_next(utc_ms(2026, 3, 1, 0, 0));
    REQUIRE(march_3);
    CHECK(march_3->start_ms == utc_ms(2026, 3, 3, 23, 30));
    const auto march_10 = schedule.current_or_next(march_3->end_ms);
    REQUIRE(march_10);
    CHECK(march_10->start_ms == utc_ms(2026, 3, 10, 22, 30));
    // Autumn: 1 November 2026 back to UTC-5.
    const auto november_3 = schedule.current_or_next(utc_ms(2026, 11, 2, 0, 0));
    REQUIRE(november_3);
    CHECK(november_3->start_ms == utc_ms(2026, 11, 3, 23, 30));
}

TEST_CASE("meetings: a start in the hour the clocks skip is moved to the jump") {
    // 02:30 does not exist in Berlin on 29 March 2026 (02:00 jumps to 03:00).
    const MeetingSchedule schedule(weekly("Europe/Berlin", "sun", "02:30"));
    const auto next = schedule.current_or_next(utc_ms(2026, 3, 28, 0, 0));
    REQUIRE(next);
    CHECK(next->start_ms == utc_ms(2026, 3, 29, 1, 0));  // 03:00 CEST, the moment of the jump
}

TEST_CASE("meetings: the occurrence in session is current until it ends, then the next comes") {
    MeetingScheduleConfig config = weekly("Europe/Berlin", "mon", "19:00");
    config.days.push_back("thu");
    const MeetingSchedule schedule(config);
    const std::uint64_t start = utc_ms(2026, 6, 1, 17, 0);  // Monday 19:00 CEST
    for (const std::uint64_t at : {start - 10 * kMinute, start, start + 89 * kMinute}) {
        const auto current = schedule.current_or_next(at);
        REQUIRE(current);
        CHECK(current->start_ms == start);
    }
    const auto thursday = schedule.current_or_next(start + 90 * kMinute);
    REQUIRE(thursday);
    CHECK(thursday->start_ms == utc_ms(2026, 6, 4, 17, 0));
}

TEST_CASE("meetings: one-off dates, alone or with a weekly rule, and none left after the last") {
    MeetingScheduleConfig config;
    config.time_zone = "Europe/Lisbon";
    config.dates = {"2026-12-24 18:00", "2026-12-31 21:00"};
    config.duration_minutes = 60;
    config.doors_open_minutes = 5;
    config.late_entry_minutes = 0;  // nobody new once it has begun
    const MeetingSchedule schedule(config);
    const auto eve = schedule.current_or_next(utc_ms(2026, 12, 1, 0, 0));
    REQUIRE(eve);
    CHECK(eve->start_ms == utc_ms(2026, 12, 24, 18, 0));  // Lisbon is UTC in winter
    CHECK(eve->late_entry_until_ms == eve->start_ms);
    const auto new_year = schedule.current_or_next(eve->end_ms);
    REQUIRE(new_year);
    CHECK(new_year->start_ms == utc_ms(2026, 12, 31, 21, 0));
    CHECK_FALSE(schedule.current_or_next(new_year->end_ms));

    // With a weekly rule too, whichever comes first.
    config.days = {"sat"};
    config.start = "10:00";
    const MeetingSchedule both(config);
    const auto first = both.current_or_next(utc_ms(2026, 12, 20, 0, 0));
    REQUIRE(first);
    CHECK(first->start_ms == utc_ms(2026, 12, 24, 18, 0));  // before Saturday the 26th
}

TEST_CASE("meetings: the clock's phases of an occurrence, and a late-entry cut-off") {
    const haven::meetings::Occurrence occurrence{1'000, 2'000, 2'500, 5'000};
    CHECK(phase_at(occurrence, 999) == MeetingPhase::scheduled);
    CHECK(phase_at(occurrence, 1'000) == MeetingPhase::doors_open);
    CHECK(phase_at(occurrence, 2'000) == MeetingPhase::in_session);
    CHECK(phase_at(occurrence, 4'999) == MeetingPhase::in_session);
    CHECK(phase_at(occurrence, 5'000) == MeetingPhase::ended);
    CHECK(haven::meetings::phase_name(MeetingPhase::doors_open) == "doors_open");
}

TEST_CASE(
    "meetings: participants post only while the doors are open or in session; "
    "facilitators and moderators always") {
    MeetingScheduleConfig config;
    config.time_zone = "UTC";
    config.dates = {"2026-12-24 18:00"};
    config.duration_minutes = 60;
    config.doors_open_minutes = 10;
    const MeetingSchedule schedule(config);
    const haven::v1::MeetingState no_changes;
    const auto closed_to_posts = [&](haven::v1::Role role, std::uint64_t at) {
        return haven::meetings::meeting_refuses_post(&schedule, no_changes, {role, "s", "m"}, at);
    };
    const std::uint64_t start = utc_ms(2026, 12, 24, 18, 0);
    const auto before = closed_to_posts(haven::v1::ROLE_PARTICIPANT, start - kMinute * 30);
    REQUIRE(before);
    CHECK(before->code == haven::v1::MEETING_CLOSED);
    CHECK(before->retry_after_ms == 20 * kMinute);  // until the doors open
    CHECK_FALSE(closed_to_posts(haven::v1::ROLE_PARTICIPANT, start - kMinute * 10));
    CHECK_FALSE(closed_to_posts(haven::v1::ROLE_PARTICIPANT, start + kMinute * 59));
    for (const auto role : {haven::v1::ROLE_PEER_SUPPORTER, haven::v1::ROLE_MODERATOR}) {
        CHECK_FALSE(closed_to_posts(role, start - kMinute * 30));
    }
    // After the last occurrence: read-only, with nothing to wait for.
    const auto after = closed_to_posts(haven::v1::ROLE_PARTICIPANT, start + kMinute * 60);
    REQUIRE(after);
    CHECK(after->retry_after_ms == 0);
}
