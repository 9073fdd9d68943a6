// Claiming and resolving moderation items, on the room's owner shard. A claim is one atomic
// step in the broker (broker/broker.hpp, claim_item), so exactly one moderator owns an item
// however many claim it at once on however many instances; the others learn who did.
#include "moderation/desk/moderation_desk.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "rooms/room_owner.hpp"
#include "rooms/server_wide.hpp"

namespace haven::moderation {

using rooms::ReplyTo;

namespace {

bool may_close_others_claim(const ModerationDesk::Actor& actor) {
    return actor.own_role >= v1::ROLE_MODERATOR;  // a global moderator or an operator
}

}  // namespace

core::Awaitable<void> ModerationDesk::moderate_item(const v1::Moderate& m, const Actor& actor,
                                                    ReplyTo reply) {
    check_owner();
    const rooms::Replies& replies = owner_.replies();
    // Only an open item of this room: moderating one room gives no hold on another's items.
    broker::Result<std::vector<v1::ModerationItem>> queue =
        co_await owner_.server_wide().read_queue();
    if (!queue) co_return replies.unavailable(reply, "the queue cannot be read now");
    const auto open = std::find_if(queue->begin(), queue->end(), [&](const auto& item) {
        return item.id() == m.item_id() && item.room_id() == m.room_id();
    });
    if (open == queue->end()) {
        co_return replies.error(reply, v1::NOT_FOUND, "that item is closed, or not of this room");
    }
    v1::ModerationItem claim;
    claim.set_id(m.item_id());
    claim.set_kind(v1::ModerationItem::CLAIMED);
    claim.set_room_id(m.room_id());
    claim.set_time_ms(open->time_ms());
    claim.set_claimed_by(actor.member.handle());
    claim.set_claimed_by_subject(actor.subject);
    claim.set_claimed_at_ms(core::wall_ms());
    broker::Result<broker::ClaimOutcome> outcome = co_await owner_.server_wide().claim_item(claim);
    if (!outcome) co_return replies.unavailable(reply, "the claim was not recorded; try again");
    using Kind = broker::ClaimOutcome::Kind;
    if (outcome->kind == Kind::gone) {
        co_return replies.error(reply, v1::NOT_FOUND, "that item was closed meanwhile");
    }
    const bool ours = outcome->claim.claimed_by_subject() == actor.subject;
    if (outcome->kind == Kind::won) {
        const std::uint64_t raised = outcome->item.time_ms();
        const std::uint64_t now = claim.claimed_at_ms();
        owner_.context().metrics.alerts.observe_claim(now > raised ? now - raised : 0);
        record_audit(actor, "claim_item", m.room_id(), "item " + m.item_id(), "");
    } else if (!ours && !(m.action() == v1::RESOLVE_ITEM && may_close_others_claim(actor))) {
        co_return replies.error(reply, v1::ALREADY_CLAIMED,
                                "claimed by " + outcome->claim.claimed_by() + " already");
    }
    if (m.action() == v1::RESOLVE_ITEM) {
        v1::ModerationItem resolved;
        resolved.set_id(m.item_id());
        resolved.set_kind(v1::ModerationItem::RESOLVED);
        resolved.set_room_id(m.room_id());
        resolved.set_outcome(m.outcome());
        resolved.set_claimed_by(actor.member.handle());
        send_item(std::move(resolved));
        std::string how = v1::AlertOutcome_Name(m.outcome());
        std::transform(how.begin(), how.end(), how.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        record_audit(actor, "resolve_item", m.room_id(), "item " + m.item_id(),
                     m.reason().empty() ? how : how + ": " + m.reason());
    }
    v1::Ack ack;
    ack.set_room_id(m.room_id());
    replies.ack(reply, std::move(ack));
}

}  // namespace haven::moderation
