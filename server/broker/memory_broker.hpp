// The embedded broker: a single process with no other service. Each shard's instance holds
// the rooms that shard owns: a sequence counter, a bounded history ring, the recent client
// message ids, presence and moderation state, and calls the sink directly. Shard 0's instance
// also holds the server-wide state: global bans, the moderation queue and the audit log.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "broker/broker.hpp"
#include "broker/known_roles.hpp"
#include "broker/user_rate_limiter.hpp"
#include "config/config.hpp"
#include "moderation/audit_file.hpp"

namespace haven::broker {

class MemoryBroker final : public Broker {
public:
    using WallClock = std::function<std::uint64_t()>;  // ms since the epoch

    // `audit` is shard 0's audit log (null on other shards). `limiter` is shared by every
    // shard's broker so a person's budget covers all their sessions (null: no such limit).
    MemoryBroker(const config::HistoryConfig& retention, BrokerSink& sink, WallClock clock,
                 std::unique_ptr<moderation::AuditFile> audit = nullptr,
                 UserRateLimiter* limiter = nullptr, RoleMemory role_memory = {});

    void publish(std::unique_ptr<v1::Event> event, std::string dedupe_key, AuthorLimit limit,
                 PublishCallback done) override;
    void publish_with_state(std::unique_ptr<v1::Event> event, moderation::StateChange change,
                            PublishCallback done) override;
    void update_state(const std::string& room_id, moderation::StateChange change,
                      DoneCallback done) override;
    void read_state(const std::string& room_id, StateCallback done) override;
    void take_state_field(const std::string& room_id, const std::string& field,
                          TakeCallback done) override;
    void find_duplicate(const std::string& room_id, const std::string& dedupe_key,
                        std::function<void(std::optional<std::uint64_t>)> done) override;
    void add_flag(const std::string& room_id, std::uint64_t seq, const std::string& subject,
                  bool trusted, FlagCallback done) override;
    void find_member(const std::string& room_id, const std::string& member_id,
                     MemberCallback done) override;
    void publish_ephemeral(EventPtr event) override;
    void read_history(HistoryQuery query, HistoryCallback done) override;
    void forget_room(const std::string& room_id) override { rooms_.erase(room_id); }
    void add_member(const std::string& room_id, const v1::PresenceRecord& record,
                    std::uint32_t capacity, JoinCallback done) override;
    void remove_member(const std::string& room_id, const v1::Member& member,
                       LeaveCallback done) override;
    void read_presence(const std::string& room_id, PresenceCallback done) override;
    std::optional<std::uint64_t> delivered_seq(const std::string& room_id) const override;
    bool healthy() const override { return true; }
    void shutdown(std::function<void()> done) override { done(); }
    void publish_global(EventPtr event, moderation::StateChange change, DoneCallback done) override;
    void read_global_state(StateCallback done) override;
    void publish_moderation_item(const v1::ModerationItem& item) override;
    void publish_duty(const v1::DutyReport&) override {}  // one instance: nobody to tell
    void read_moderation_queue(QueueCallback done) override;
    void claim_item(const v1::ModerationItem& claim, ClaimCallback done) override;
    void escalate_item(const v1::ModerationItem& notice, EscalateCallback done) override;
    void mark_author_left(const v1::ModerationItem& notice, EscalateCallback done) override;
    void hold_webhook(const std::string& item_id, std::uint64_t now_ms, std::uint64_t until_ms,
                      EscalateCallback done) override;
    void mark_webhook_sent(const std::string& item_id) override;
    void record_departure(const moderation::Departure& gone, std::uint64_t takeover_ms) override;
    void forget_departure(const moderation::Departure& gone) override;
    void take_departures(std::uint64_t now_ms, std::uint32_t limit,
                         DeparturesCallback done) override;
    void remember_check_in(const std::string& thread_id, const std::string& thread,
                           std::uint64_t idle_ms) override;
    void find_check_in(const std::string& thread_id, TakeCallback done) override;
    void record_role(const std::string& subject, const KnownRole& seen) override;
    void find_role(const std::string& subject, RoleCallback done) override;
    void append_audit(v1::AuditEntry entry) override;
    void read_audit(std::string room_id, std::string before_id, std::uint32_t limit,
                    AuditCallback done) override;
    void subscribe(const std::string&) override {}  // every event is local already
    void unsubscribe(const std::string&) override {}

private:
    struct RoomLog {
        std::uint64_t last_seq = 0;
        std::deque<EventPtr> events;  // contiguous sequence numbers, oldest first
        std::unordered_map<std::string, std::uint64_t> seq_by_dedupe_key;
        std::deque<std::string> dedupe_order;  // oldest first, bounded by the dedupe window
        std::map<std::string, v1::PresenceRecord> members;  // by member id
        std::uint64_t presence_version = 0;
        moderation::StateFields state;
        std::map<std::uint64_t, std::set<std::string>> flaggers;  // by post seq
        std::map<std::uint64_t, std::uint32_t> trusted_flags;     // by post seq
    };

    void store(RoomLog& log, std::unique_ptr<v1::Event> event, std::string dedupe_key,
               const AuthorLimit& limit, PublishCallback& done);
    static std::vector<v1::Member> members_of(const RoomLog& log);
    // Tells the sink of an arrival or departure; returns the room's new presence version.
    std::uint64_t announce(RoomLog& log, const std::string& room_id, const v1::Member& member,
                           bool joined);
    void trim(RoomLog& log, std::uint64_t now_ms) const;
    void remember(RoomLog& log, std::string key, std::uint64_t seq) const;
    HistorySlice slice(RoomLog& log, const HistoryQuery& query) const;
    static void apply(moderation::StateFields& state, const moderation::StateChange& change);

    const config::HistoryConfig& retention_;
    BrokerSink& sink_;
    WallClock clock_;
    std::unordered_map<std::string, RoomLog> rooms_;
    // Server-wide, on shard 0's instance.
    std::unique_ptr<moderation::AuditFile> audit_;
    UserRateLimiter* limiter_;
    moderation::StateFields global_state_;
    std::map<std::string, v1::ModerationItem> open_items_;  // claims and steps merged in
    std::map<std::string, v1::ModerationItem> claims_;      // by item id: the winning claim
    std::map<std::string, std::uint32_t> escalations_;      // by item id: the step reached
    std::map<std::string, std::uint64_t> authors_left_;     // by item id: when its author left
    std::map<std::string, std::uint64_t> webhooks_;  // by item id: held until, or kWebhookSent
    struct Wait {
        moderation::Departure gone;
        std::uint64_t takeover_ms = 0;
    };
    std::map<std::pair<std::string, std::string>, Wait> departures_;  // by room, subject
    KnownRoles known_roles_;
};

}  // namespace haven::broker
