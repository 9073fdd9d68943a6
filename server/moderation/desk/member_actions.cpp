// Moderators' actions, on the room's owner shard: on a post (hide, restore, resolve flags), on
// the room (lock, slow mode), on a person (mute, kick, ban, in the room or everywhere), and on
// held posts (held_posts.cpp). An action on a person first checks rank: nobody acts on someone
// of their own role or higher (moderation/target_role), which may take a hop to shard 0, where
// the roles people were seen with are remembered.
#include "moderation/desk/moderation_desk.hpp"
#include "moderation/desk/target_role.hpp"
#include "rooms/room_owner.hpp"
#include "rooms/server_wide.hpp"

namespace haven::moderation {

using rooms::ReplyTo;

core::Awaitable<void> ModerationDesk::moderate_flow(v1::Moderate m, Actor actor, ReplyTo reply) {
    check_owner();
    const rooms::Replies& replies = owner_.replies();
    const rooms::RoomRef config = owner_.context().directory.find(m.room_id());
    if (config == nullptr) co_return replies.error(reply, v1::UNKNOWN_ROOM, "no such room");
    if (!co_await owner_.load_moderation(*owner_.room(config))) {
        co_return replies.unavailable(reply, "try again in a moment");
    }
    switch (m.action()) {
        case v1::HIDE_POST:
        case v1::RESTORE_POST:
        case v1::RESOLVE_FLAGS:
            co_return co_await moderate_post(m, actor, reply);
        case v1::RELEASE_POST:
        case v1::REJECT_POST:
            co_return co_await moderate_held(m, actor, reply);
        case v1::CLAIM_ITEM:
        case v1::RESOLVE_ITEM:
            co_return co_await moderate_item(m, actor, reply);
        case v1::LOCK_ROOM:
        case v1::UNLOCK_ROOM: {
            const bool lock = m.action() == v1::LOCK_ROOM;
            auto event = std::make_unique<v1::Event>();
            event->set_room_id(m.room_id());
            event->mutable_room_lock()->set_locked(lock);
            *event->mutable_room_lock()->mutable_by() = actor.member;
            record_audit(actor, lock ? "lock_room" : "unlock_room", m.room_id(), "room",
                         m.reason());
            StateChange change = lock ? StateChange::set(std::string(kLockedField), "1")
                                      : StateChange::erase(std::string(kLockedField));
            co_await publish_moderation(std::move(event), std::move(change), reply);
            co_return;
        }
        case v1::SET_SLOW_MODE: {
            auto event = std::make_unique<v1::Event>();
            event->set_room_id(m.room_id());
            event->mutable_slow_mode()->set_seconds(m.slow_mode_seconds());
            *event->mutable_slow_mode()->mutable_by() = actor.member;
            const std::string field(kSlowModeField);
            record_audit(actor, "slow_mode", m.room_id(),
                         std::to_string(m.slow_mode_seconds()) + " s", m.reason());
            StateChange change =
                m.slow_mode_seconds() > 0
                    ? StateChange::set(field, std::to_string(m.slow_mode_seconds()))
                    : StateChange::erase(field);
            co_await publish_moderation(std::move(event), std::move(change), reply);
            co_return;
        }
        default:
            break;
    }
    // Member actions: act on the person behind a present member id, or on a subject.
    v1::PresenceRecord target;
    if (!m.subject().empty()) {
        target.set_subject(m.subject());
        target.mutable_member()->set_member_id(m.member_id());
    } else {
        broker::Result<v1::PresenceRecord> found =
            co_await owner_.async_broker().find_member(m.room_id(), m.member_id());
        if (!found) co_return replies.unavailable(reply, "try again in a moment");
        if (found->subject().empty()) {
            co_return replies.error(reply, v1::NOT_FOUND,
                                    "that member is not in the room; use their subject");
        }
        target = std::move(*found);
    }
    co_await moderate_member(m, actor, target, reply);
}

core::Awaitable<void> ModerationDesk::moderate_post(const v1::Moderate& m, const Actor& actor,
                                                    ReplyTo reply) {
    const rooms::Replies& replies = owner_.replies();
    broker::Result<std::optional<v1::Event>> post =
        co_await owner_.async_broker().read_event(m.room_id(), m.seq());
    if (!post) co_return replies.unavailable(reply, "try again in a moment");
    if (!*post || !(*post)->has_posted()) {
        co_return replies.error(reply, v1::NOT_FOUND, "no such post (it may be too old)");
    }
    const std::string target = "post " + std::to_string(m.seq());
    if (m.action() == v1::RESOLVE_FLAGS) {
        replies.ack(reply, m.room_id(), m.seq());
        resolve_items(m.room_id(), m.seq());
        co_return record_audit(actor, "resolve_flags", m.room_id(), target, m.reason());
    }
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(m.room_id());
    resolve_items(m.room_id(), m.seq());
    if (m.action() == v1::HIDE_POST) {
        event->mutable_post_hidden()->set_seq(m.seq());
        *event->mutable_post_hidden()->mutable_by() = actor.member;
        event->mutable_post_hidden()->set_reason(m.reason());
        record_audit(actor, "hide_post", m.room_id(), target, m.reason());
        StateChange change = StateChange::set(hidden_field(m.seq()), "1");
        co_await publish_moderation(std::move(event), std::move(change), reply);
        co_return;
    }
    event->mutable_post_restored()->set_seq(m.seq());
    *event->mutable_post_restored()->mutable_post() = (*post)->posted();
    *event->mutable_post_restored()->mutable_by() = actor.member;
    record_audit(actor, "restore_post", m.room_id(), target, m.reason());
    StateChange change = StateChange::erase(hidden_field(m.seq()));
    co_await publish_moderation(std::move(event), std::move(change), reply);
}

core::Awaitable<bool> ModerationDesk::outranks(const v1::Moderate& m, const Actor& actor,
                                               const v1::PresenceRecord& target, ReplyTo reply) {
    // A global action is weighed by the actor's own role and the target's highest anywhere;
    // an action in a room by their roles there.
    const bool global = m.global();
    const v1::Role actor_role = global ? actor.own_role : actor.member.role();
    // Operators act on anyone: nothing to look up.
    if (actor_role >= v1::ROLE_OPERATOR) co_return true;
    broker::Result<std::optional<broker::KnownRole>> known =
        co_await owner_.server_wide().find_role(target.subject());
    broker::RoleLookup lookup;
    lookup.ok = known.has_value();
    if (known) lookup.known = std::move(*known);
    const v1::Role present = target.member().role();
    const auto role = global ? highest_role(target.subject(), present, lookup)
                             : target_role(target.subject(), m.room_id(), present, lookup);
    if (!role) {
        owner_.replies().error(reply, v1::FORBIDDEN,
                               "that person's role is not known here; an operator can do this");
        co_return false;
    }
    if (!may_act_on(actor_role, role)) {
        owner_.replies().error(
            reply, v1::FORBIDDEN,
            "you can't act on someone whose role is the same as yours or higher");
        co_return false;
    }
    co_return true;
}

core::Awaitable<void> ModerationDesk::moderate_member(const v1::Moderate& m, const Actor& actor,
                                                      const v1::PresenceRecord& target,
                                                      ReplyTo reply) {
    if (!co_await outranks(m, actor, target, reply)) co_return;
    check_owner();  // back on the owner shard after the rank check
    const std::string& subject = target.subject();
    const std::uint64_t until = m.duration_seconds() == 0
                                    ? 0
                                    : core::wall_ms() + std::uint64_t{m.duration_seconds()} * 1000;
    const std::string who = target.member().handle().empty()
                                ? subject
                                : target.member().handle() + " (" + subject + ")";
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(m.room_id());
    switch (m.action()) {
        case v1::MUTE: {
            v1::MemberMuted* muted = event->mutable_member_muted();
            *muted->mutable_member() = target.member();
            muted->set_until_ms(until);
            *muted->mutable_by() = actor.member;
            muted->set_reason(m.reason());
            muted->set_subject(subject);
            record_audit(actor, "mute", m.room_id(), who, m.reason());
            StateChange change = StateChange::set(mute_field(subject), std::to_string(until));
            co_await publish_moderation(std::move(event), std::move(change), reply);
            co_return;
        }
        case v1::UNMUTE: {
            v1::MemberUnmuted* unmuted = event->mutable_member_unmuted();
            *unmuted->mutable_member() = target.member();
            *unmuted->mutable_by() = actor.member;
            unmuted->set_subject(subject);
            record_audit(actor, "unmute", m.room_id(), who, m.reason());
            StateChange change = StateChange::erase(mute_field(subject));
            co_await publish_moderation(std::move(event), std::move(change), reply);
            co_return;
        }
        case v1::KICK:
        case v1::BAN: {
            const bool ban = m.action() == v1::BAN;
            v1::MemberRemoved* removed = event->mutable_member_removed();
            *removed->mutable_member() = target.member();
            removed->set_banned(ban);
            removed->set_until_ms(ban ? until : 0);
            *removed->mutable_by() = actor.member;
            removed->set_reason(m.reason());
            removed->set_subject(subject);
            removed->set_global(ban && m.global());
            // A guest's next identity is one click away: the ban covers the address they came
            // from (as a keyed hash) for as long, and the moderators are told it does.
            const std::string& address = ban ? target.address_key() : kNoAddressKey;
            removed->set_address_key(address);
            removed->set_address_banned(!address.empty());
            const std::string banned_who = address.empty() ? who : who + " and their address";
            if (ban && m.global()) {
                // Every instance closes the person's sessions; the room hears of it too.
                record_audit(actor, "ban_global", m.room_id(), banned_who, m.reason());
                const v1::Event global_event = *event;
                StateChange room_change;  // the room's own state keeps no global ban
                co_await publish_moderation(std::move(event), std::move(room_change), reply);
                StateChange change =
                    StateChange::set(ban_field(subject), ban_value(until, address));
                co_await publish_global(global_event, std::move(change), ReplyTo{});
                co_return;
            }
            record_audit(actor, ban ? "ban" : "kick", m.room_id(), banned_who, m.reason());
            StateChange change =
                ban ? StateChange::set(ban_field(subject), ban_value(until, address))
                    : StateChange{};
            co_await publish_moderation(std::move(event), std::move(change), reply);
            co_return;
        }
        case v1::UNBAN: {
            v1::MemberUnbanned* unbanned = event->mutable_member_unbanned();
            *unbanned->mutable_by() = actor.member;
            unbanned->set_subject(subject);
            unbanned->set_global(m.global());
            if (m.global()) {
                record_audit(actor, "unban_global", m.room_id(), who, m.reason());
                StateChange change = StateChange::erase(ban_field(subject));
                co_await publish_global(*event, std::move(change), reply);
                co_return;
            }
            record_audit(actor, "unban", m.room_id(), who, m.reason());
            StateChange change = StateChange::erase(ban_field(subject));
            co_await publish_moderation(std::move(event), std::move(change), reply);
            co_return;
        }
        default:
            co_return owner_.replies().error(reply, v1::BAD_REQUEST, "not a member action");
    }
}

core::Awaitable<void> ModerationDesk::publish_global(const v1::Event& event, StateChange&& change,
                                                     ReplyTo reply) {
    const std::string room_id = event.room_id();
    broker::EventPtr shared = std::make_shared<const v1::Event>(event);
    broker::Result<void> done =
        co_await owner_.server_wide().publish_global(std::move(shared), std::move(change));
    if (!done) co_return owner_.replies().unavailable(reply, "try again");
    owner_.replies().ack(reply, room_id, 0);
}

}  // namespace haven::moderation
