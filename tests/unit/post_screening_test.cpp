// The verdict on a post before it is stored, without any hub: redaction, crisis language
// found even when the post is refused, and each restriction with who is exempt from it.
#include <doctest/doctest.h>

#include "moderation/crisis_detector.hpp"
#include "moderation/moderation_state.hpp"
#include "moderation/post_screening.hpp"

#ifndef HAVEN_SOURCE_DIR
#error "HAVEN_SOURCE_DIR must name the source tree (for config/crisis)"
#endif

using namespace haven;
using moderation::PostAuthor;
using moderation::screen_post;
using moderation::ScreeningRules;
using moderation::ScreeningVerdict;
using Outcome = ScreeningVerdict::Outcome;

namespace {

const moderation::CrisisDetector& detector() {
    static const moderation::CrisisDetector shipped(
        moderation::load_crisis_lists(std::string(HAVEN_SOURCE_DIR) + "/config/crisis"));
    return shipped;
}

moderation::ModerationState state_with(const moderation::StateFields& fields) {
    moderation::ModerationState state;
    state.load(fields);
    return state;
}

constexpr std::uint64_t kNow = 1'000'000;
const PostAuthor kParticipant{"sub-p", v1::ROLE_PARTICIPANT, false};

}  // namespace

TEST_CASE("screening: an ordinary post is published as written") {
    const ScreeningVerdict verdict = screen_post("hello everyone", kParticipant, {}, {}, kNow);
    CHECK(verdict.outcome == Outcome::publish);
    CHECK_FALSE(verdict.redacted_text);
    CHECK_FALSE(verdict.crisis);
}

TEST_CASE("screening: each restriction refuses with its code and wait, and who is exempt") {
    const auto refused = [](const moderation::ModerationState& room, const PostAuthor& author) {
        return screen_post("hi", author, room, {}, kNow);
    };
    const auto banned = state_with({{moderation::ban_field("sub-p"), "0"}});
    CHECK(refused(banned, kParticipant).restriction.code == v1::BANNED);
    CHECK(refused({}, PostAuthor{"sub-p", v1::ROLE_MODERATOR, true}).restriction.code ==
          v1::BANNED);  // a global ban holds for anyone
    const auto muted =
        state_with({{moderation::mute_field("sub-p"), std::to_string(kNow + 30'000)}});
    const ScreeningVerdict mute = refused(muted, kParticipant);
    CHECK(mute.outcome == Outcome::refuse);
    CHECK(mute.restriction.code == v1::MUTED);
    CHECK(mute.restriction.retry_after_ms == 30'000);
    const auto locked = state_with({{std::string(moderation::kLockedField), "1"}});
    CHECK(refused(locked, kParticipant).restriction.code == v1::ROOM_LOCKED);
    CHECK(refused(locked, PostAuthor{"sub-m", v1::ROLE_MODERATOR, false}).outcome ==
          Outcome::publish);
    auto slow = state_with({{std::string(moderation::kSlowModeField), "10"}});
    slow.note_post("sub-p", kNow - 4'000);
    const ScreeningVerdict wait = refused(slow, kParticipant);
    CHECK(wait.restriction.code == v1::SLOW_MODE_WAIT);
    CHECK(wait.restriction.retry_after_ms == 6'000);
    slow.note_post("sub-s", kNow);
    CHECK(refused(slow, PostAuthor{"sub-s", v1::ROLE_PEER_SUPPORTER, false}).outcome ==
          Outcome::publish);
    // A room closed to posts (a meeting outside its session) refuses after the room's own
    // restrictions, and still finds crisis language.
    ScreeningRules closed;
    closed.crisis = &detector();
    closed.closed = moderation::Restriction{v1::MEETING_CLOSED, 60'000};
    const ScreeningVerdict shut =
        screen_post("I want to end my life", kParticipant, {}, closed, kNow);
    CHECK(shut.outcome == Outcome::refuse);
    CHECK(shut.restriction.code == v1::MEETING_CLOSED);
    CHECK(shut.restriction.retry_after_ms == 60'000);
    CHECK(shut.crisis.has_value());
    CHECK(screen_post("hi", kParticipant, banned, closed, kNow).restriction.code == v1::BANNED);
}

TEST_CASE(
    "screening: crisis language is found even when the post is refused, and held where "
    "the room holds it") {
    ScreeningRules rules;
    rules.crisis = &detector();
    const std::string text = "I want to end my life tonight";
    const ScreeningVerdict delivered = screen_post(text, kParticipant, {}, rules, kNow);
    CHECK(delivered.outcome == Outcome::publish);
    CHECK(delivered.crisis.has_value());
    rules.crisis_policy = config::CrisisPolicy::hold;
    CHECK(screen_post(text, kParticipant, {}, rules, kNow).outcome == Outcome::hold);
    const auto muted = state_with({{moderation::mute_field("sub-p"), "0"}});
    const ScreeningVerdict refused = screen_post(text, kParticipant, muted, rules, kNow);
    CHECK(refused.outcome == Outcome::refuse);
    CHECK(refused.crisis.has_value());  // the author still gets the resources
}

TEST_CASE("screening: contact details are removed before the text is stored or scanned") {
    ScreeningRules rules;
    rules.redact_contact_details = true;
    const ScreeningVerdict verdict =
        screen_post("write to me at sam@example.org", kParticipant, {}, rules, kNow);
    REQUIRE(verdict.redacted_text);
    CHECK(verdict.redacted_text->find("sam@example.org") == std::string::npos);
    CHECK_FALSE(screen_post("no details here", kParticipant, {}, rules, kNow).redacted_text);
}
