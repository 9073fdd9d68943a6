// Someone who leaves right after a crisis post: the people whose post raised an open crisis
// alert and who left its room (or lost their connection), each waited for through a grace
// period, as pure decisions with the time passed in, so the timing is tested on its own.
// rooms::ServerWide feeds it departures and, when a wait is over, checks whether the person
// is back before anyone is told.
//
// Owned by shard 0 (rooms/server_wide). Bounded by the open crisis alerts: one wait per alert.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace haven::moderation {

struct Departure {
    std::string item_id;  // the crisis alert the person's post raised
    std::string room_id;
    std::string subject;
    std::uint64_t left_at_ms = 0;
};

class FollowupWatch {
public:
    explicit FollowupWatch(std::uint64_t grace_ms) : grace_ms_(grace_ms) {}

    // The person left at `departure.left_at_ms`: the wait for this alert starts (again: after
    // a return and a second departure the grace counts from the second).
    void departed(Departure departure);
    // The departures whose grace has passed by `now_ms`, taken out of the watch.
    std::vector<Departure> take_due(std::uint64_t now_ms);
    // The alert was closed: nobody waits for its author any more.
    void forget(const std::string& item_id) { waiting_.erase(item_id); }
    std::size_t size() const { return waiting_.size(); }

private:
    std::uint64_t grace_ms_;
    std::map<std::string, Departure> waiting_;  // by alert id
};

}  // namespace haven::moderation
