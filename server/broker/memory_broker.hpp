// The embedded broker: a single process with no other service. Each shard's instance holds
// the rooms that shard owns: a sequence counter, a bounded history ring and the recent client
// message ids, and calls the sink directly.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>

#include "broker/broker.hpp"
#include "config/config.hpp"

namespace haven::broker {

class MemoryBroker final : public Broker {
public:
    using WallClock = std::function<std::uint64_t()>;  // ms since the epoch

    MemoryBroker(const config::HistoryConfig& retention, BrokerSink& sink, WallClock clock);

    void publish(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                 PublishCallback done) override;
    void publish_ephemeral(EventPtr event) override;
    void read_history(HistoryQuery query, HistoryCallback done) override;
    void add_member(const std::string& room_id, const v1::Member& member, std::uint32_t capacity,
                    JoinCallback done) override;
    void remove_member(const std::string& room_id, const v1::Member& member,
                       LeaveCallback done) override;
    bool healthy() const override { return true; }
    void shutdown(std::function<void()> done) override { done(); }
    void subscribe(const std::string&) override {}  // every event is local already
    void unsubscribe(const std::string&) override {}

private:
    struct RoomLog {
        std::uint64_t last_seq = 0;
        std::deque<EventPtr> events;  // contiguous sequence numbers, oldest first
        std::unordered_map<std::string, std::uint64_t> seq_by_dedupe_key;
        std::deque<std::string> dedupe_order;  // oldest first, bounded by the dedupe window
        std::map<std::string, v1::Member> members;  // by member id
    };

    void announce(const std::string& room_id, const v1::Member& member, bool joined);

    void trim(RoomLog& log, std::uint64_t now_ms) const;
    void remember(RoomLog& log, std::string key, std::uint64_t seq) const;
    HistorySlice slice(RoomLog& log, const HistoryQuery& query) const;

    const config::HistoryConfig& retention_;
    BrokerSink& sink_;
    WallClock clock_;
    std::unordered_map<std::string, RoomLog> rooms_;
};

}  // namespace haven::broker
