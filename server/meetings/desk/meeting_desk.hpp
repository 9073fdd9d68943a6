// The meetings module: a meeting room's floor and course (hands, the floor, phases, rounds,
// start / end / extend), on the room's owner shard. One desk per shard, beside that shard's
// RoomOwner. A step is worked out by the pure rules (meetings/meeting_floor) from the state
// the owner holds and published as one sequenced event that carries the whole new state,
// stored with a compare-and-set on its version (meetings/meeting_store): two steps taken at
// once on two instances are both applied, one after the other, never one over the other.
//
// Executors: `control` is called by a session on its own shard and hops at once to the desk of
// the room's owner shard, where everything else runs (flows as coroutines on its loop).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/spawn.hpp"
#include "haven.pb.h"
#include "meetings/meeting_attendance.hpp"
#include "meetings/meeting_floor.hpp"
#include "rooms/local_session.hpp"
#include "rooms/reply_to.hpp"

namespace haven::rooms {
class Room;
class RoomOwner;
}  // namespace haven::rooms

namespace haven::meetings {

class MeetingDesk {
public:
    explicit MeetingDesk(rooms::RoomOwner& owner) : owner_(owner) {}
    // Wiring: every shard's desk, by shard.
    void connect(std::vector<MeetingDesk*> desks) { desks_ = std::move(desks); }

    // ---- called by a session on its shard ------------------------------------------------
    void control(const rooms::LocalSession& session, std::uint64_t request_id,
                 const v1::MeetingControl& control);

    // ---- on the owner shard ---------------------------------------------------------------
    // The shard's sweep (meetings/meeting_attendance): hands of people who left, a meeting
    // whose facilitators are gone or back, shares whose time is up in rooms that cut them off.
    void sweep(std::uint64_t now_ms);

private:
    void check_owner() const;
    core::Awaitable<void> control_flow(v1::MeetingControl control, rooms::ReplyTo reply);
    // Publishes the state `step` makes from the room's current one, reading the stored state
    // again when another instance got there first; nothing when the step is refused.
    using Step =
        std::function<FloorStep(const v1::MeetingState&, const MeetingNow&, std::uint64_t now_ms)>;
    struct Outcome {
        FloorStep step;
        std::uint64_t seq = 0;     // the event's, when one was published
        bool unavailable = false;  // the broker could not be reached
    };
    core::Awaitable<Outcome> change(std::shared_ptr<rooms::Room>& room, const Step& step);
    core::Awaitable<void> tend_flow(std::shared_ptr<rooms::Room> room, Absences absences);
    static Attendance attendance_of(const rooms::Room& room);

    rooms::RoomOwner& owner_;
    std::vector<MeetingDesk*> desks_;
    std::unordered_map<std::string, Absences> absences_;  // by room, as this shard saw them
    std::unordered_set<std::string> tending_;             // rooms whose sweep step is on its way
};

}  // namespace haven::meetings
