// What happens to a post before it is stored, decided in one pure step: contact details
// redacted, crisis language looked for (before anything can refuse the post, so whoever wrote
// it gets the resources and the moderators hear of it, muted or not), and the room's
// restrictions on its author (bans, mutes, lock, slow mode). The owner of the room then acts
// on the verdict: publish, hold for a moderator, or refuse.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "haven.pb.h"
#include "moderation/crisis_detector.hpp"
#include "moderation/moderation_state.hpp"

namespace haven::moderation {

struct PostAuthor {
    std::string_view subject;
    v1::Role role = v1::ROLE_PARTICIPANT;  // their role in the room
    bool globally_banned = false;
};

// Why a post may not go out now, with how long until it may (0: not by waiting).
struct Restriction {
    v1::ErrorCode code = v1::ERROR_UNSPECIFIED;
    std::uint32_t retry_after_ms = 0;
};

struct ScreeningRules {
    bool redact_contact_details = false;
    std::span<const std::string> phones_to_keep;  // crisis lines, never redacted
    const CrisisDetector* crisis = nullptr;       // null: detection off
    config::CrisisPolicy crisis_policy = config::CrisisPolicy::deliver;
    // The room does not take this author's posts now (a meeting outside its session),
    // refused like the room's own restrictions, after them.
    std::optional<Restriction> closed = std::nullopt;
};

struct ScreeningVerdict {
    enum class Outcome { publish, hold, refuse };
    Outcome outcome = Outcome::publish;
    std::optional<std::string> redacted_text;  // the text to store, when details were removed
    std::optional<CrisisMatch> crisis;         // set even when the post is refused
    Restriction restriction;                   // with refuse
};

// The room's restrictions on this author at `now_ms`, or nothing.
std::optional<Restriction> post_restriction(const ModerationState& room, const PostAuthor& author,
                                            std::uint64_t now_ms);

ScreeningVerdict screen_post(std::string_view text, const PostAuthor& author,
                             const ModerationState& room, const ScreeningRules& rules,
                             std::uint64_t now_ms);

}  // namespace haven::moderation
