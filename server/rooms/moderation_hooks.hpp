// What the owner side of rooms hands to the moderation module (moderation/moderation_desk),
// which registers itself with its shard's RoomOwner. The owner decides what happens to a post
// (moderation/post_screening); the module does what moderators must see and act on.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "haven.pb.h"
#include "moderation/crisis_detector.hpp"
#include "rooms/reply_to.hpp"

namespace haven::rooms {

class Room;

class ModerationHooks {
public:
    virtual ~ModerationHooks() = default;
    // A post the screening held for a moderator: store it and tell its author.
    virtual void hold_post(std::unique_ptr<v1::Event> post, std::string dedupe_key,
                           std::optional<moderation::CrisisMatch> crisis, ReplyTo reply) = 0;
    // Crisis language in a post, stored (with its seq) or refused (seq 0): moderators hear.
    virtual void crisis_seen(const v1::Event& post, const moderation::CrisisMatch& match) = 0;
    // A moderation event of the room (a mute, a removal) on its way to the members: the
    // people it concerns are told and removed where it says so.
    virtual void enforce(Room& room, const v1::Event& event) = 0;
    // A member left the room of their own accord or lost their connection, and no session of
    // theirs is left in it on this instance.
    virtual void member_left(const std::string& room_id, const std::string& subject) = 0;
    // A held post has waited moderation.hold_timeout_seconds: the room's held_unanswered
    // decides it, unless a moderator (or another instance) has meanwhile.
    virtual void expire_held(const std::string& room_id, const std::string& hold_id) = 0;
};

}  // namespace haven::rooms
