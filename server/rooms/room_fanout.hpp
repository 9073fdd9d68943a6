// Delivery of room events to a shard's local members, batched per room and event-loop turn.
//
// Events are queued as they reach the shard and written when the turn ends: a room that got
// one event gives each member that frame, as before; a room that got several gives each member
// one batch holding them all, framed once for the whole room. At high rates this turns K
// deliveries to a member into one queue entry and one write, so the cost per delivery falls
// with the rate instead of staying at one write each.
//
// A member list must not change while events wait for it: whoever adds or removes a member
// flushes that room first, so everyone gets exactly the events of the time they were a member.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/metrics.hpp"
#include "rooms/encoded_event.hpp"

namespace haven::session {
class ClientSession;
}

namespace haven::rooms {

class RoomFanout {
public:
    using Members = std::unordered_map<std::string, std::vector<session::ClientSession*>>;
    using EventRef = std::shared_ptr<const EncodedEvent>;

    // `schedule` arranges one call of flush() after the work already queued on this shard.
    RoomFanout(const Members& members, core::ShardCounters& counters,
               std::function<void()> schedule);

    // Queues an event for the room's members here.
    void add(EventRef event);
    // Delivers everything queued (the end of the turn).
    void flush();
    // Delivers what is queued for one room now, before its member list changes.
    void flush_room(const std::string& room_id);

private:
    void deliver(const std::string& room_id, std::vector<EventRef> events);

    const Members& members_;
    core::ShardCounters& counters_;
    std::function<void()> schedule_;
    bool scheduled_ = false;
    std::unordered_map<std::string, std::vector<EventRef>> pending_;  // by room, in order
    std::vector<std::string> order_;  // rooms in the order their first event came
};

}  // namespace haven::rooms
