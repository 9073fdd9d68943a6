// Rank checks for moderator actions on a person, and the record of roles they rely on.
//
// The person an action names may be in the room (their presence record carries their role in
// it), elsewhere, or offline. Their remembered roles live with the server-wide state on shard
// 0, so the check asks there and comes back to the room's owner to act:
//
//   owner: when_outranked -> shard 0: find_role -> owner: may_act_on ? then(owner) : FORBIDDEN
#include "moderation/target_role.hpp"
#include "rooms/hub.hpp"
#include "session/client_session.hpp"

namespace haven::rooms {

void Hub::record_role(const session::ClientSession& session) {
    check_owner();
    broker::KnownRole seen;
    seen.role = session.member().role();
    for (const auto& [room, role] : session.room_roles()) seen.room_roles[room] = role;
    Hub* zero = hubs_[0];
    if (!routing_) return;
    router_.post(0, [zero, subject = session.subject(), seen = std::move(seen)] {
        zero->broker_->record_role(subject, seen);
    });
}

void Hub::when_outranked(const v1::Moderate& m, const Actor& actor, v1::PresenceRecord target,
                         ReplyTo reply, std::function<void(Hub&)> then) {
    check_owner();
    // A global action is weighed by the actor's own role and the target's highest anywhere;
    // an action in a room by their roles there.
    const bool global = m.global();
    const v1::Role actor_role = global ? actor.own_role : actor.member.role();
    // Operators act on anyone: nothing to look up.
    if (actor_role >= v1::ROLE_OPERATOR) return then(*this);
    Hub* zero = hubs_[0];
    router_.post(0, [zero, room_id = m.room_id(), global, actor_role, target = std::move(target),
                     reply, then = std::move(then)] {
        const std::string subject = target.subject();
        zero->broker_->find_role(subject, [zero, room_id, global, actor_role, target, reply,
                                           then](broker::RoleLookup lookup) {
            zero->on_owner(room_id, [room_id, global, actor_role, target, reply, then,
                                     lookup = std::move(lookup)](Hub& owner) {
                const v1::Role present = target.member().role();
                const auto role =
                    global ? moderation::highest_role(target.subject(), present, lookup)
                           : moderation::target_role(target.subject(), room_id, present, lookup);
                if (!role) {
                    return owner.reply_error(
                        reply, v1::FORBIDDEN,
                        "that person's role is not known here; an operator can do this");
                }
                if (!moderation::may_act_on(actor_role, role)) {
                    return owner.reply_error(
                        reply, v1::FORBIDDEN,
                        "you can't act on someone whose role is the same as yours or higher");
                }
                then(owner);
            });
        });
    });
}

}  // namespace haven::rooms
