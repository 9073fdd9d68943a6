#include "moderation/post_screening.hpp"

#include <algorithm>
#include <cstdint>

#include "moderation/redactor.hpp"

namespace haven::moderation {

std::optional<Restriction> post_restriction(const ModerationState& room, const PostAuthor& author,
                                            std::uint64_t now_ms) {
    const auto remaining = [now_ms](std::uint64_t until) {
        return static_cast<std::uint32_t>(
            until > now_ms ? std::min<std::uint64_t>(until - now_ms, UINT32_MAX) : 0);
    };
    const std::string subject(author.subject);
    if (author.globally_banned || room.banned_until(subject, now_ms)) {
        return Restriction{v1::BANNED, 0};
    }
    if (auto until = room.muted_until(subject, now_ms)) {
        return Restriction{v1::MUTED, *until == 0 ? 0u : remaining(*until)};
    }
    if (room.locked() && author.role < v1::ROLE_MODERATOR) return Restriction{v1::ROOM_LOCKED, 0};
    // Peer supporters and moderators keep a meeting going: slow mode is for participants.
    if (author.role < v1::ROLE_PEER_SUPPORTER) {
        if (const std::uint64_t wait = room.slow_mode_wait_ms(subject, now_ms)) {
            return Restriction{v1::SLOW_MODE_WAIT, static_cast<std::uint32_t>(wait)};
        }
    }
    return std::nullopt;
}

ScreeningVerdict screen_post(std::string_view text, const PostAuthor& author,
                             const ModerationState& room, const ScreeningRules& rules,
                             std::uint64_t now_ms) {
    ScreeningVerdict verdict;
    if (rules.redact_contact_details) {
        RedactionResult redacted = redact_contact_details(text, rules.phones_to_keep);
        if (redacted.emails + redacted.phones > 0) verdict.redacted_text = std::move(redacted.text);
    }
    const std::string_view stored = verdict.redacted_text ? *verdict.redacted_text : text;
    if (rules.crisis != nullptr) verdict.crisis = rules.crisis->scan(stored);
    std::optional<Restriction> restriction = post_restriction(room, author, now_ms);
    if (!restriction) restriction = rules.closed;
    if (restriction) {
        verdict.outcome = ScreeningVerdict::Outcome::refuse;
        verdict.restriction = *restriction;
        return verdict;
    }
    if (verdict.crisis && rules.crisis_policy == config::CrisisPolicy::hold) {
        verdict.outcome = ScreeningVerdict::Outcome::hold;
    }
    return verdict;
}

}  // namespace haven::moderation
