// What room moderators see of who did what in the audit log: a label per actor and room,
// stable (the same person is the same label in that room, on every instance that shares the
// key) and unlinkable across rooms, so a moderator can follow a colleague's actions without
// learning their subject, the id actions by subject would take. Operators see subjects.
#pragma once

#include <string>
#include <string_view>

namespace haven::moderation {

// "actor-" and 12 hex digits of HMAC-SHA256(key, room_id "\n" subject); "" for "" (automatic
// decisions have no actor).
std::string actor_label(std::string_view key, std::string_view room_id, std::string_view subject);

}  // namespace haven::moderation
