// A shard's chat engine. Each shard has one Hub, which plays two parts:
//
//  * local side: the sessions this shard owns and, per room, which of them are members here,
//    so an event reaching this shard is written to its local members only;
//  * owner side: the authoritative state of the rooms this shard owns (membership, presence)
//    and the shard's Broker, which sequences, stores and fans out their events.
//
// Everything in a Hub is touched only from its shard's thread. Requests cross to the owner
// shard and replies come back as posted tasks carrying session ids, never pointers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/broker.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/server_context.hpp"
#include "core/shard_identity.hpp"
#include "core/shard_router.hpp"
#include "haven.pb.h"
#include "moderation/crisis_detector.hpp"
#include "protocol/close_codes.hpp"
#include "protocol/codec.hpp"
#include "rooms/encoded_event.hpp"
#include "rooms/reply_to.hpp"
#include "rooms/room.hpp"
#include "rooms/room_fanout.hpp"
#include "rooms/room_list_encoder.hpp"

namespace haven::session {
class ClientSession;
}

namespace haven::rooms {

class Hub final : public broker::BrokerSink {
public:
    Hub(unsigned shard, core::ServerContext& context, core::ShardRouter& router);
    ~Hub() override;

    // Wiring, before the shards start.
    void connect(std::vector<Hub*> all_hubs, std::unique_ptr<broker::Broker> broker);

    // After the shards have stopped: sessions destroyed during teardown must not post to
    // event loops that may already be gone.
    void stop_routing() {
        routing_ = false;
        fanout_.discard();  // nobody is left to write to
    }
    void release_broker() { broker_.reset(); }

    unsigned shard() const { return shard_; }
    // Every entry point runs on this Hub's shard: checked (core/shard_identity).
    void check_owner() const { core::check_owner(shard_, "rooms::Hub"); }
    core::ServerContext& context() { return context_; }
    const RoomListEncoder& room_list() const { return room_list_; }
    core::ShardCounters& counters() { return counters_; }
    broker::Broker& broker() { return *broker_; }

    // ---- local side: called by this shard's sessions --------------------------------
    std::uint64_t next_session_id() { return (std::uint64_t{shard_} << 48) | ++session_counter_; }
    std::string session_name(std::uint64_t session_id) const;
    void add_session(session::ClientSession& session);
    // Leaves every room the session is in; the session must not be used by the Hub after.
    void remove_session(session::ClientSession& session);

    void join(session::ClientSession& session, std::uint64_t request_id, const v1::Join& join);
    void leave(session::ClientSession& session, std::uint64_t request_id,
               const std::string& room_id);
    void post(session::ClientSession& session, std::uint64_t request_id, const v1::Post& post);
    void typing(session::ClientSession& session, const v1::Typing& typing);
    void history(session::ClientSession& session, std::uint64_t request_id,
                 const v1::HistoryRequest& request);

    // ---- moderation, local side (hub_moderation.cpp) -----------------------------------
    void flag(session::ClientSession& session, std::uint64_t request_id, const v1::Flag& flag);
    void moderate(session::ClientSession& session, std::uint64_t request_id,
                  const v1::Moderate& moderate);
    void audit(session::ClientSession& session, std::uint64_t request_id,
               const v1::AuditRequest& request);
    void moderation_queue(session::ClientSession& session, std::uint64_t request_id);
    void add_moderator(session::ClientSession& session);
    // Remembers a signed-in person's roles server-wide, for actions that name them later.
    void record_role(const session::ClientSession& session);
    bool globally_banned(const std::string& subject) const;
    // Shard 0, at start-up: loads the global bans and hands them to every shard.
    void load_global_state();

    // Periodic housekeeping: closes sessions that did not say Hello in time.
    void sweep(core::SteadyTime now);
    // Draining: asks every local session to reconnect (to another instance) after a random
    // delay of up to `spread_ms`, so they do not all arrive there at once.
    void ask_to_reconnect(std::uint32_t spread_ms);
    // Closes every local session (shutdown).
    void close_all(protocol::CloseCode code);
    std::size_t session_count() const { return sessions_.size(); }

    // ---- owner side: the Broker's sink for rooms this shard owns ----------------------
    void on_room_event(const broker::EventPtr& event) override;
    void on_room_resubscribed(const std::string& room_id) override;
    void on_global_event(const broker::EventPtr& event) override;
    void on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item) override;

private:
    // Runs `task` on the Hub of `room_id`'s owner shard.
    template <class Task>
    void on_owner(const std::string& room_id, Task task) {
        if (!routing_) return;
        Hub* owner = hubs_[context_.directory.owner_shard(room_id)];
        router_.post(owner->shard_, [owner, task = std::move(task)]() mutable { task(*owner); });
    }
    // Runs `task` with the session on its shard, if it still exists. A reply to session id 0
    // goes nowhere (for actions nobody waits on).
    template <class Task>
    void on_session(const ReplyTo& to, Task task) {
        if (!routing_ || to.session_id == 0) return;
        Hub* home = hubs_[to.shard];
        router_.post(to.shard, [home, id = to.session_id, task = std::move(task)]() mutable {
            task(*home, home->find_session(id));
        });
    }

    // Owner side.
    Room& room(const config::RoomConfig& config);
    Room* existing_room(const std::string& room_id);
    void owner_join(const std::string& room_id, std::uint64_t session_id, MemberRecord record,
                    std::uint64_t since_seq, ReplyTo reply);
    // Removes a member; `done` (optional) runs once the broker has recorded the departure.
    void owner_leave(const std::string& room_id, std::uint64_t session_id,
                     std::function<void()> done = {});
    void owner_post(std::unique_ptr<v1::Event> event, std::string client_msg_id,
                    std::uint64_t session_id, ReplyTo reply);
    void owner_typing(const std::string& room_id, std::uint64_t session_id, bool active);
    void owner_history(broker::HistoryQuery query, std::uint64_t session_id, ReplyTo reply);
    void admit(const std::string& room_id, std::uint64_t session_id, std::uint64_t since_seq,
               ReplyTo reply, const config::RoomConfig& room_config, MemberRecord record);
    void refuse_join(const std::string& room_id, const ReplyTo& reply, v1::ErrorCode code,
                     std::string_view message, std::uint32_t retry_after_ms = 0);
    void read_join_history(const std::string& room_id, std::uint64_t session_id,
                           std::uint64_t since_seq, std::uint64_t presence_version, ReplyTo reply);
    // Sends the Joined once the live stream has reached the join's snapshot (join_sync.cpp).
    void settle_join(PendingJoin join, const std::string& room_id);
    void read_past_snapshot(PendingJoin join, const std::string& room_id, std::uint64_t delivered);
    void settle_waiting_joins(Room& state);
    void send_joined(Room& state, PendingJoin& join);
    void expire_waiting_joins(core::SteadyTime now);
    // Re-reads the room's presence and tells the members what their view missed.
    void refresh_presence(const std::string& room_id);
    // Encodes a room event once per encoding and hands it to every shard with members.
    void fan_out(Room& state, const v1::Event& event);

    // Moderation, owner side (hub_moderation.cpp).
    struct Actor {
        v1::Member member;  // role: their role in this room
        std::string subject;
        bool moderator = false;                    // of this room
        v1::Role own_role = v1::ROLE_UNSPECIFIED;  // without room grants: for global actions
    };
    // Runs `then` once the room's moderation state is loaded (at once when it is).
    void with_moderation(Room& room, std::function<void(bool loaded)> then);
    void screen_and_publish(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                            std::uint64_t session_id, ReplyTo reply);
    void refuse_post(const std::string& room_id, const std::string& dedupe_key,
                     std::pair<v1::ErrorCode, std::uint32_t> restriction, ReplyTo reply);
    void send_alert(const ReplyTo& reply, v1::Alert alert);
    void tell_author_rejected(const v1::HeldPost& held);
    void store_held(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                    std::optional<moderation::CrisisMatch> crisis, ReplyTo reply);
    void hold_post(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                   std::optional<moderation::CrisisMatch> crisis, ReplyTo reply);
    void owner_flag(v1::Flag flag, Actor actor, ReplyTo reply);
    void owner_moderate(v1::Moderate moderate, Actor actor, ReplyTo reply);
    void moderate_post(const v1::Moderate& moderate, const Actor& actor, ReplyTo reply);
    void moderate_member(const v1::Moderate& moderate, const Actor& actor,
                         v1::PresenceRecord target, ReplyTo reply);
    // Runs `then` on the room's owner once the target's role is known to be below the actor's
    // (hub_target_role.cpp); otherwise refuses with FORBIDDEN.
    void when_outranked(const v1::Moderate& moderate, const Actor& actor, v1::PresenceRecord target,
                        ReplyTo reply, std::function<void(Hub&)> then);
    void apply_member_action(const v1::Moderate& moderate, const Actor& actor,
                             const v1::PresenceRecord& target, ReplyTo reply);
    void apply_held_action(const v1::Moderate& moderate, const Actor& actor,
                           const v1::HeldPost& held, ReplyTo reply);
    void moderate_held(const v1::Moderate& moderate, const Actor& actor, ReplyTo reply);
    void publish_moderation(std::unique_ptr<v1::Event> event, moderation::StateChange change,
                            ReplyTo reply);
    void publish_post(std::unique_ptr<v1::Event> event, std::string dedupe_key, ReplyTo reply,
                      std::optional<moderation::CrisisMatch> crisis);
    v1::Alert crisis_alert(const std::string& room_id, const moderation::CrisisMatch& match) const;
    void report_crisis(const v1::Event& event, const moderation::CrisisMatch& match);
    void read_post(const std::string& room_id, std::uint64_t seq,
                   std::function<void(std::optional<v1::Event>, bool ok)> done);
    void enforce(Room& room, const v1::Event& event);
    void send_item(v1::ModerationItem item);
    void record_audit(const Actor& actor, std::string action, const std::string& room_id,
                      std::string target, std::string reason);
    void resolve_items(const std::string& room_id, std::uint64_t seq);
    void reply_error(const ReplyTo& reply, v1::ErrorCode code, std::string message,
                     std::uint32_t retry_after_ms = 0);
    void reply_ack(const ReplyTo& reply, const std::string& room_id, std::uint64_t seq);
    void reply_ack(const ReplyTo& reply, v1::Ack ack);

    // Local side.
    session::ClientSession* find_session(std::uint64_t session_id);
    void apply_global(const v1::Event& event);
    void deliver_item(const v1::ModerationItem& item);
    void deliver_local(std::shared_ptr<const EncodedEvent> event);
    void drop_local_member(const std::string& room_id, session::ClientSession& session);

    unsigned shard_;
    core::ServerContext& context_;
    core::ShardRouter& router_;
    core::ShardCounters& counters_;
    RoomListEncoder room_list_;
    std::vector<Hub*> hubs_;
    std::unique_ptr<broker::Broker> broker_;
    std::uint64_t session_counter_ = 0;
    bool routing_ = true;

    std::unordered_map<std::uint64_t, session::ClientSession*> sessions_;
    RoomFanout::Members local_members_;
    RoomFanout fanout_;  // events on their way to local_members_
    std::unordered_map<std::string, std::unique_ptr<Room>> owned_rooms_;
    std::vector<session::ClientSession*> moderators_;  // local sessions that moderate anything
    moderation::GlobalBans global_bans_;               // this shard's copy
    std::vector<std::string> crisis_line_numbers_;     // never redacted from posts
    const std::string actor_label_key_;  // audit actor labels (moderation/actor_label)
};

}  // namespace haven::rooms
