// The moderation module: flags, moderators' actions (on posts, people and the room), held
// posts, the enforcement of removals and mutes, the audit log and the queue as moderators ask
// for them. One desk per shard, beside that shard's RoomOwner, whose rooms it moderates; it
// registers itself as the owner's ModerationHooks.
//
// Executors: the request entry points (flag, moderate, audit, moderation_queue) are called by
// a session on its own shard. Flags and actions are handed at once to the desk of the room's
// owner shard, where everything else runs; the audit log and the queue are read from the
// server-wide state and answered from the session's shard. Each flow is a coroutine that reads top
// to bottom: a hop to shard 0 (the server-wide state) is one `co_await` on rooms::ServerWide.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/async_broker.hpp"
#include "core/spawn.hpp"
#include "haven.pb.h"
#include "moderation/crisis_detector.hpp"
#include "moderation/moderation_state.hpp"
#include "rooms/local_session.hpp"
#include "rooms/moderation_hooks.hpp"
#include "rooms/reply_to.hpp"

namespace haven::rooms {
class Room;
class RoomOwner;
}  // namespace haven::rooms

namespace haven::moderation {

class ModerationDesk final : public rooms::ModerationHooks {
public:
    // Who acts: a session's identity, taken on its own shard.
    struct Actor {
        v1::Member member;  // role: their role in this room
        std::string subject;
        bool moderator = false;                    // of this room
        v1::Role own_role = v1::ROLE_UNSPECIFIED;  // without room grants: for global actions
        // Signed in, or in the room for moderation.flag_trust_minutes: their flags can hide.
        bool trusted_flagger = false;
    };

    explicit ModerationDesk(rooms::RoomOwner& owner);
    // Wiring: every shard's desk, by shard.
    void connect(std::vector<ModerationDesk*> desks) { desks_ = std::move(desks); }

    // ---- called by a session on its shard ------------------------------------------------
    void flag(const rooms::LocalSession& session, std::uint64_t request_id, const v1::Flag& flag);
    void moderate(const rooms::LocalSession& session, std::uint64_t request_id,
                  const v1::Moderate& moderate);
    void audit(const rooms::LocalSession& session, std::uint64_t request_id,
               const v1::AuditRequest& request);
    void moderation_queue(const rooms::LocalSession& session, std::uint64_t request_id);
    // Someone accepted a meeting's agreements to join it: recorded (who, which version, when)
    // and counted, never refused.
    void agreements_accepted(const rooms::LocalSession& session, const std::string& room_id,
                             const std::string& version);
    // check_ins.cpp: reach out, and the person's answer.
    void check_in(const rooms::LocalSession& session, std::uint64_t request_id,
                  const v1::CheckIn& check_in);
    void check_in_reply(const rooms::LocalSession& session, std::uint64_t request_id,
                        const v1::CheckInReply& answer);

    // ---- the owner's hooks ---------------------------------------------------------------
    void hold_post(std::unique_ptr<v1::Event> post, std::string dedupe_key,
                   std::optional<CrisisMatch> crisis, rooms::ReplyTo reply) override;
    void crisis_seen(const v1::Event& post, const CrisisMatch& match) override;
    void enforce(rooms::Room& room, const v1::Event& event) override;
    // Handed to the server-wide state, which knows the alerts and waits for the person's return.
    void member_left(const std::string& room_id, const std::string& subject) override;
    void expire_held(const std::string& room_id, const std::string& hold_id) override;

private:
    // Who writes a check-in, as their session knew them when they sent it.
    struct Writer {
        v1::Member member;  // role: their own
        std::string subject;
        std::vector<std::pair<std::string, v1::Role>> room_roles;
        v1::Role role_in(const std::string& room_id) const;
    };

    void check_owner() const;
    core::Awaitable<void> check_in_flow(v1::CheckIn check_in, Writer writer, rooms::ReplyTo reply);
    core::Awaitable<void> check_in_reply_flow(v1::CheckInReply answer, v1::Member member,
                                              std::string subject, rooms::ReplyTo reply);
    template <class Task>
    void on_owner_desk(const std::string& room_id, Task task);

    // On the session's shard (moderation_desk.cpp).
    core::Awaitable<void> audit_flow(v1::AuditRequest request, rooms::ReplyTo reply,
                                     bool show_subjects);
    core::Awaitable<void> queue_flow(rooms::ReplyTo reply);

    // On the owner shard.
    core::Awaitable<void> flag_flow(v1::Flag flag, Actor actor, rooms::ReplyTo reply);
    // member_actions.cpp
    core::Awaitable<void> moderate_flow(v1::Moderate m, Actor actor, rooms::ReplyTo reply);
    core::Awaitable<void> moderate_post(const v1::Moderate& m, const Actor& actor,
                                        rooms::ReplyTo reply);
    // Awaited flows take what they are given by reference: see broker/async_broker.hpp.
    core::Awaitable<void> moderate_member(const v1::Moderate& m, const Actor& actor,
                                          const v1::PresenceRecord& target, rooms::ReplyTo reply);
    // Whether the target's role is below the actor's; refuses with FORBIDDEN when not.
    core::Awaitable<bool> outranks(const v1::Moderate& m, const Actor& actor,
                                   const v1::PresenceRecord& target, rooms::ReplyTo reply);
    core::Awaitable<void> publish_global(const v1::Event& event, StateChange&& change,
                                         rooms::ReplyTo reply);
    // item_claims.cpp: CLAIM_ITEM and RESOLVE_ITEM.
    core::Awaitable<void> moderate_item(const v1::Moderate& m, const Actor& actor,
                                        rooms::ReplyTo reply);
    // held_posts.cpp
    core::Awaitable<void> hold_flow(std::unique_ptr<v1::Event> post, std::string dedupe_key,
                                    std::optional<CrisisMatch> crisis, rooms::ReplyTo reply);
    core::Awaitable<void> store_held(std::unique_ptr<v1::Event>&& post, std::string&& dedupe_key,
                                     std::optional<CrisisMatch>&& crisis, rooms::ReplyTo reply);
    core::Awaitable<void> moderate_held(const v1::Moderate& m, const Actor& actor,
                                        rooms::ReplyTo reply);
    core::Awaitable<void> expire_held_flow(std::string room_id, std::string hold_id);
    // Publishes a held post (once, however often this is called).
    core::Awaitable<broker::Result<broker::Published>> deliver_held(const v1::HeldPost& held);
    void resolve_held(const std::string& room_id, const std::string& hold_id);
    // Tells a held post's author (when on this instance) what became of it.
    void tell_author(const v1::HeldPost& held, v1::Alert::Kind kind, std::string message);

    // Announces a moderation event with its state change and acknowledges it.
    core::Awaitable<void> publish_moderation(std::unique_ptr<v1::Event>&& event,
                                             StateChange&& change, rooms::ReplyTo reply);
    void send_item(v1::ModerationItem item);
    void resolve_items(const std::string& room_id, std::uint64_t seq);
    void record_audit(const Actor& actor, std::string action, const std::string& room_id,
                      std::string target, std::string reason);

    rooms::RoomOwner& owner_;
    std::vector<ModerationDesk*> desks_;
    const std::string actor_label_key_;  // audit actor labels (moderation/actor_label)
    // Who posted crisis language in which room here, and when (wall ms), for the follow-up of
    // someone who leaves right after: "<room>\n<subject>". Entries older than
    // safety.followup_minutes are dropped as new ones come.
    std::unordered_map<std::string, std::uint64_t> recent_crisis_authors_;
    void remember_crisis_author(const std::string& room_id, const std::string& subject);
};

}  // namespace haven::moderation
