// Whom a moderator's action names, by rank. Every action on a person (by member id, subject,
// hold id; in a room or everywhere) resolves the person's highest known role first, and
// nobody acts on someone of their own role or higher; operators act on anyone. A role that
// cannot be known (the person was never seen, or the broker could not be asked about someone
// not in the room) leaves the action to operators.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "broker/broker.hpp"
#include "haven.pb.h"

namespace haven::moderation {

// Whether `subject` has the form of the server's own guest identities ("g:" and 13 URL-safe
// characters). Guests are participants, always; their identities are never given to anyone
// with another role.
bool is_guest_subject(std::string_view subject);

// The target's highest known role in `room_id`: the role recorded with their presence in the
// room (ROLE_UNSPECIFIED when they are not there), the roles remembered for them, and the guest
// rule. Nothing when it cannot be known.
std::optional<v1::Role> target_role(std::string_view subject, const std::string& room_id,
                                    v1::Role present_role, const broker::RoleLookup& lookup);

// The same for an action everywhere (a global ban): their highest role in any room.
std::optional<v1::Role> highest_role(std::string_view subject, v1::Role present_role,
                                     const broker::RoleLookup& lookup);

// Whether `actor` may act on someone whose role is `target` (nothing: unknown).
bool may_act_on(v1::Role actor, std::optional<v1::Role> target);

}  // namespace haven::moderation
