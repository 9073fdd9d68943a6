// Someone who leaves right after a crisis post: the people who left a room (or lost their
// connection) soon after a crisis post of theirs there, each waited for through a grace period,
// as pure decisions with the time passed in, so the timing is tested on its own.
// rooms::ServerWide feeds it departures and, when a wait is over, matches them to the open
// alerts (which may have reached it after the departure) and checks whether the person is
// back before anyone is told.
//
// Owned by shard 0 (rooms/server_wide). One wait per person and room; only people with a
// recent crisis post are handed to it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace haven::moderation {

struct Departure {
    std::string room_id;
    std::string subject;
    std::uint64_t left_at_ms = 0;
};

class FollowupWatch {
public:
    explicit FollowupWatch(std::uint64_t grace_ms) : grace_ms_(grace_ms) {}

    // The person left at `departure.left_at_ms`: the wait starts (again: after a return and a
    // second departure the grace counts from the second).
    void departed(Departure departure);
    // The departures whose grace has passed by `now_ms`, taken out of the watch.
    std::vector<Departure> take_due(std::uint64_t now_ms);
    std::size_t size() const { return waiting_.size(); }

private:
    std::uint64_t grace_ms_;
    std::map<std::pair<std::string, std::string>, Departure> waiting_;  // by room, subject
};

}  // namespace haven::moderation
