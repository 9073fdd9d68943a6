// The distributed broker: many Haven instances on one Redis 7. Per shard it holds one command
// connection (pipelined; every room step is one Lua script) and one subscriber connection
// for the channels of the rooms this shard owns while they have local members.
//
// Redis pub/sub is at-most-once, so sequence numbers guard delivery: an event whose seq skips
// ahead of the last one delivered for its room makes the broker read the gap from the room's
// stream before delivering, and a resubscription after a lost connection catches up the same
// way. Members never see a room's events out of order or twice.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/broker.hpp"
#include "broker/redis/redis_connection.hpp"
#include "broker/redis/redis_scripts.hpp"
#include "config/config.hpp"
#include "core/metrics.hpp"

namespace haven::broker::redis {

struct RedisBrokerOptions {
    RedisEndpoint endpoint;
    std::string key_prefix = "haven:";
    std::string instance_id;
    config::HistoryConfig retention;
    // Shard 0 of each instance keeps the instance's heartbeat and reaps dead instances.
    bool keeps_instance_alive = false;
    std::chrono::milliseconds heartbeat_interval{3000};
    std::chrono::milliseconds instance_timeout{15000};
    std::chrono::milliseconds role_memory{
        std::chrono::hours(24 * 90)};  // moderation.role_memory_days
    // With keeps_instance_alive: what this instance says of itself with each heartbeat, for
    // the other instances' read_instances (the admin API's info).
    std::function<v1::InstanceInfo()> report;
};

using InstancesCallback = std::function<void(std::optional<std::vector<v1::InstanceInfo>>)>;

class RedisBroker final : public Broker {
public:
    RedisBroker(boost::asio::io_context& io, RedisBrokerOptions options, BrokerSink& sink,
                core::ShardCounters& counters);
    ~RedisBroker() override;

    void start();
    // Best effort on shutdown: forget this instance in Redis so nobody has to reap it.
    void stop();

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
    void publish_global(EventPtr event, moderation::StateChange change, DoneCallback done) override;
    void read_global_state(StateCallback done) override;
    void publish_moderation_item(const v1::ModerationItem& item) override;
    void publish_duty(const v1::DutyReport& report) override;
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
    void read_moderation_queue(QueueCallback done) override;
    void record_role(const std::string& subject, const KnownRole& seen) override;
    void find_role(const std::string& subject, RoleCallback done) override;
    void append_audit(v1::AuditEntry entry) override;
    // Every instance on the heartbeat list with what it last reported (an instance that
    // reported nothing yet has only its id and heartbeat time); nothing when Redis cannot be
    // read.
    void read_instances(InstancesCallback done);
    void forget_room(const std::string& room_id) override;
    void read_audit(std::string room_id, std::string before_id, std::uint32_t limit,
                    AuditCallback done) override;
    void publish_ephemeral(EventPtr event) override;
    void read_history(HistoryQuery query, HistoryCallback done) override;
    void add_member(const std::string& room_id, const v1::PresenceRecord& record,
                    std::uint32_t capacity, JoinCallback done) override;
    void remove_member(const std::string& room_id, const v1::Member& member,
                       LeaveCallback done) override;
    void read_presence(const std::string& room_id, PresenceCallback done) override;
    std::optional<std::uint64_t> delivered_seq(const std::string& room_id) const override;
    bool healthy() const override { return healthy_.load(std::memory_order_relaxed); }
    void shutdown(std::function<void()> done) override;
    void subscribe(const std::string& room_id) override;
    void unsubscribe(const std::string& room_id) override;

private:
    // Delivery state of one subscribed room.
    struct RoomStream {
        // Last sequenced event handed to the sink; unknown until the first history read or
        // event after subscribing.
        std::optional<std::uint64_t> last_seq;
        bool subscribed = false;  // Redis confirmed the subscription
        bool catching_up = false;
        std::vector<EventPtr> held;    // arrived while catching up, delivered after
        std::uint64_t generation = 0;  // tells a stream from a later one of the same room
    };

    std::string key(std::string_view room_id, std::string_view suffix) const;
    std::string channel(std::string_view room_id) const;
    std::string instance_members_key() const;
    std::string instance_report_key(std::string_view instance_id) const;
    std::string global_key(std::string_view name) const {
        return options_.key_prefix + std::string(name);
    }
    void publish_sequenced(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                           const AuthorLimit& limit, const moderation::StateChange& change,
                           PublishCallback done);
    void read_hash(const std::string& key, StateCallback done);
    void subscribe_server_channels();
    void eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
              RedisConnection::ReplyHandler done);
    void read_range(HistoryQuery query, HistoryCallback done);

    void on_push(const redisReply* reply);
    void on_sequenced(const std::string& room_id, EventPtr event);
    void deliver_in_order(RoomStream& stream, const EventPtr& event);
    void catch_up(const std::string& room_id);
    // The room's stream if it is still the one of `generation`.
    RoomStream* stream_of(const std::string& room_id, std::uint64_t generation);
    void update_health();
    void heartbeat();
    void reap_dead_instances();

    boost::asio::io_context& io_;
    RedisBrokerOptions options_;
    BrokerSink& sink_;
    core::ShardCounters& counters_;
    RedisConnection commands_;
    RedisConnection subscriber_;
    std::unordered_map<std::string, RoomStream> streams_;
    std::uint64_t stream_generations_ = 0;
    // Departures Redis did not hear about while it was unreachable, replayed on reconnect so
    // nobody stays listed as present.
    std::vector<std::pair<std::string, v1::Member>> pending_removals_;
    std::atomic<bool> healthy_{false};
    bool server_wide_subscribed_ = false;  // shard 0: the control and moderation channels
    boost::asio::steady_timer heartbeat_timer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haven::broker::redis
