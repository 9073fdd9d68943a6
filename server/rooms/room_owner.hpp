// The owner side of rooms: the authoritative state of the rooms this shard owns (membership,
// presence, moderation state), the shard's Broker and its sink. Join, leave, post and history
// requests arrive here from every shard's Hub; each is a coroutine on this shard's loop that
// reads top to bottom, waiting on the broker where it must (broker/async_broker). The delivery
// path (sink -> fan_out -> the Hubs of the shards with members) is plain calls.
//
// Feature modules sit beside it on the same shard and executor: the moderation module
// registers its hooks here (rooms/moderation_hooks); see the README, "Adding a feature module".
//
// Executor: this shard's. Every member function runs there (checked, core/shard_identity).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/async_broker.hpp"
#include "broker/broker.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/server_context.hpp"
#include "core/shard_identity.hpp"
#include "core/shard_router.hpp"
#include "core/spawn.hpp"
#include "haven.pb.h"
#include "moderation/crisis_alert.hpp"
#include "moderation/crisis_detector.hpp"
#include "rooms/moderation_hooks.hpp"
#include "rooms/replies.hpp"
#include "rooms/room.hpp"

namespace haven::rooms {

class Hub;
class ServerWide;

class RoomOwner final : public broker::BrokerSink {
public:
    RoomOwner(unsigned shard, core::ServerContext& context, core::ShardRouter& router,
              const std::vector<Hub*>& hubs, ServerWide& server_wide);
    ~RoomOwner() override;

    // Wiring, before the shards start.
    void connect(std::unique_ptr<broker::Broker> broker);
    void set_moderation(ModerationHooks& hooks) { moderation_ = &hooks; }
    ModerationHooks& moderation_hooks() { return *moderation_; }
    void release_broker();

    unsigned shard() const { return shard_; }
    void check_owner() const { core::check_owner(shard_, "rooms::RoomOwner"); }
    core::ServerContext& context() { return context_; }
    core::ShardCounters& counters() { return counters_; }
    broker::Broker& broker() { return *broker_; }
    broker::AsyncBroker& async_broker() { return *async_; }
    const Replies& replies() const { return replies_; }
    ServerWide& server_wide() { return server_wide_; }
    boost::asio::io_context& loop() { return router_.context(shard_); }
    // This shard's copy of the global bans.
    bool globally_banned(const std::string& subject,
                         const std::string& address_key = moderation::kNoAddressKey) const;

    // ---- requests from the Hubs ---------------------------------------------------------
    void join(const std::string& room_id, MemberRecord record, std::uint64_t since_seq,
              ReplyTo reply);
    // Why a member goes: of their own accord (Leave, or their connection ended: the moderation
    // module watches for someone leaving right after a crisis post), or sent away.
    enum class LeaveCause { own, removed, room_closed };
    // Removes the member (reply.session_id 0: nobody waits for the Left).
    void leave(const std::string& room_id, std::uint64_t session_id, ReplyTo reply,
               LeaveCause cause = LeaveCause::own);
    // The Hub's post: author, screening, then hold, refusal or publication.
    void post(std::unique_ptr<v1::Event> event, ReplyTo reply);
    void typing(const std::string& room_id, std::uint64_t session_id, bool active);
    void history(broker::HistoryQuery query, ReplyTo reply);
    // Joins that waited too long for the live stream (the shard's sweep).
    void expire_waiting_joins(core::SteadyTime now);
    // A room opened at run time has closed (the directory no longer has it): this instance's
    // members leave it with Left{reason: "closed"}, and what this shard kept of it goes.
    void close_room(const std::string& room_id);

    // ---- for the feature modules --------------------------------------------------------
    // The room's state here, made when first needed. A flow that awaits while using it holds
    // the pointer: a room closed meanwhile is then no longer existing_room's.
    std::shared_ptr<Room> room(const RoomRef& config);
    Room* existing_room(const std::string& room_id);
    // Every room this shard keeps state for (a sweep's walk; `visit` must not add or drop one).
    template <class Visit>
    void for_each_room(Visit&& visit) const {
        for (const auto& [id, room] : owned_rooms_) visit(room);
    }
    // True once the room's moderation state is known (read from the broker if need be).
    // `moderation_known` says whether that needs no wait, so a flow can skip the await.
    static bool moderation_known(const Room& room);
    core::Awaitable<bool> load_moderation(Room& room);

    // ---- the Broker's sink ----------------------------------------------------------------
    void on_room_event(const broker::EventPtr& event) override;
    void on_room_resubscribed(const std::string& room_id) override;
    void on_global_event(const broker::EventPtr& event) override;
    void on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item) override;
    void on_duty_report(const std::shared_ptr<const v1::DutyReport>& report) override;

    // Whether a moderator on duty serves the room (the roster this shard last got), and so
    // what a person whose post raised an alert there is told (safety.tell_author).
    bool moderator_on_duty(const std::string& room_id) const;
    moderation::HumanSide human_side(const std::string& room_id) const;

private:
    core::Awaitable<void> join_flow(std::string room_id, MemberRecord record,
                                    std::uint64_t since_seq, ReplyTo reply);
    core::Awaitable<void> leave_flow(std::string room_id, std::uint64_t session_id, ReplyTo reply,
                                     LeaveCause cause);
    core::Awaitable<void> close_room_flow(std::string room_id);
    core::Awaitable<void> post_flow(std::unique_ptr<v1::Event> event, ReplyTo reply);
    // Awaited flows take what they are given by reference: see broker/async_broker.hpp.
    core::Awaitable<void> publish_post(std::unique_ptr<v1::Event>&& event, std::string&& dedupe_key,
                                       std::optional<moderation::CrisisMatch>&& crisis,
                                       ReplyTo reply);
    core::Awaitable<void> refuse_post(const std::string& room_id, const std::string& dedupe_key,
                                      v1::ErrorCode code, std::uint32_t retry_after_ms,
                                      ReplyTo reply);
    core::Awaitable<void> history_flow(broker::HistoryQuery query, ReplyTo reply);
    void refuse_join(const std::string& room_id, const ReplyTo& reply, v1::ErrorCode code,
                     std::string message, std::uint32_t retry_after_ms = 0);
    // The history a join carries (room_owner_join.cpp).
    core::Awaitable<void> read_join_history(const std::string& room_id, PendingJoin&& join,
                                            std::uint64_t since_seq);
    // Sends the Joined once the live stream has reached the join's snapshot.
    void settle_join(PendingJoin join, const std::string& room_id);
    core::Awaitable<void> read_past_snapshot(PendingJoin join, std::string room_id,
                                             std::uint64_t delivered);
    void settle_waiting_joins(Room& state);
    void send_joined(Room& state, PendingJoin& join);
    // Re-reads the room's presence and tells the members what their view missed.
    void refresh_presence(const std::string& room_id);
    core::Awaitable<void> refresh_presence_flow(std::string room_id);
    // Encodes a room event once per encoding and hands it to every shard with members.
    void fan_out(Room& state, const v1::Event& event);

    unsigned shard_;
    core::ServerContext& context_;
    core::ShardRouter& router_;
    core::ShardCounters& counters_;
    const std::vector<Hub*>& hubs_;
    ServerWide& server_wide_;
    Replies replies_;
    std::unique_ptr<broker::Broker> broker_;
    std::optional<broker::AsyncBroker> async_;
    ModerationHooks* moderation_ = nullptr;
    std::unordered_map<std::string, std::shared_ptr<Room>> owned_rooms_;
    std::vector<std::string> crisis_line_numbers_;  // never redacted from posts
};

}  // namespace haven::rooms
