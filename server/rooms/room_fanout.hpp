// Delivery of room events to a shard's local members, batched per room and event-loop turn.
//
// Events are queued as they reach the shard and written when the turn ends: a room that got
// one event gives each member that frame; a room that got several gives each member one batch
// holding them all, framed once for the whole room. At high rates this turns K deliveries to a
// member into one queue entry and one write, so the cost per delivery falls with the rate
// instead of staying at one write each.
//
// Presence (member_joined, member_left) may wait longer, up to `presence_delay`: when many
// people arrive or leave at once, each member then gets several of them in one write instead of
// one write each (in a join storm that fan-out was most of the server's work). Any other event
// of the room takes the waiting presence along at the end of its turn, so a room's events
// always arrive in order.
//
// Everyone gets the events of the time they were a member here: a member leaving flushes the
// room first; a member arriving flushes it too, unless only presence waits, which then stays
// addressed to the members already there (the newcomer learns who is in the room from the
// member list in its Joined).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/metrics.hpp"
#include "core/task.hpp"
#include "rooms/encoded_event.hpp"
#include "rooms/local_session.hpp"

namespace haven::rooms {

class RoomFanout {
public:
    using Members = std::unordered_map<std::string, std::vector<LocalSession*>>;
    using EventRef = std::shared_ptr<const EncodedEvent>;
    // Runs a task on this shard: after the work already queued (delay 0) or after a delay.
    using Schedule = std::function<void(std::chrono::milliseconds, core::Task)>;

    RoomFanout(const Members& members, core::ShardCounters& counters, Schedule schedule,
               std::chrono::milliseconds presence_delay);

    // Queues an event for the room's members here.
    void add(EventRef event);
    // Delivers what waits for the end of the turn.
    void flush();
    // Delivers the presence that waited for its delay.
    void flush_presence();
    // Call before a member leaves the room's list: delivers what is queued for the room now.
    void flush_room(const std::string& room_id);
    // Call before a member joins the room's list.
    void before_member_added(const std::string& room_id);
    // Drops everything queued, for good (the shards have stopped).
    void discard();

private:
    static constexpr std::size_t kEveryone = std::numeric_limits<std::size_t>::max();

    // Events queued for the first `audience` members of the room's list (members are only
    // ever appended while events wait, so those are the members there when they were queued).
    struct Segment {
        std::vector<EventRef> events;
        std::size_t audience = kEveryone;
    };
    struct Queued {
        std::vector<Segment> segments;  // in the room's order
        bool this_turn = false;         // holds an event that goes out at the end of this turn
    };

    void deliver(const std::string& room_id, const std::vector<Segment>& segments);

    const Members& members_;
    core::ShardCounters& counters_;
    Schedule schedule_;
    std::chrono::milliseconds presence_delay_;
    bool turn_scheduled_ = false;
    bool presence_scheduled_ = false;
    std::unordered_map<std::string, Queued> pending_;  // by room
    std::vector<std::string> this_turn_;               // rooms to flush at the end of the turn
    std::vector<std::string> waiting_;  // rooms with presence only, for flush_presence()
};

}  // namespace haven::rooms
