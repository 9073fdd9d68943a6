// The room's member list as this instance has told its members, kept by the room's owner
// shard (and touched only there). Presence events carry the room's presence version, which
// the broker increments with every arrival and departure; the view applies them in version
// order, drops repeats, and notices a version it never received (a live event lost while a
// subscription was being made or remade). A snapshot read from the broker then puts it right,
// and the differences go out to the members as ordinary member_joined / member_left events, so
// everyone's list converges on the stored one.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "haven.pb.h"

namespace haven::rooms {

class RoomPresence {
public:
    enum class Verdict {
        applied,  // the next change: deliver it
        stale,    // seen already, or no view yet: drop it
        gap,      // newer than the next one: applied and delivered, but a change is missing
    };

    // Whether the view has a starting point (a member of the room is served here).
    bool known() const { return known_; }
    std::uint64_t version() const { return version_; }
    // Some change at or below version() has not been seen: a snapshot is needed.
    bool has_gap() const { return complete_through_ < version_; }
    // Every change up to this version is in the view.
    std::uint64_t complete_through() const { return complete_through_; }
    std::size_t size() const { return members_.size(); }

    // Starts from the member list a join read, at that version.
    void reset(const std::vector<v1::Member>& members, std::uint64_t version);
    // Forgets everything (the room has no members here any more).
    void clear();

    // A member_joined or member_left event with its presence version. An event without one
    // (from an instance that does not number presence) is applied and reported as a gap, so
    // the view is checked against a snapshot.
    Verdict apply(const v1::Event& event);

    // Takes a snapshot read from the broker and returns the events that bring the members
    // from the view they had to the new one (time set, version the snapshot's, room id
    // `room_id`). A snapshot older than the view is brought forward with the changes seen
    // since; one too old for that is not taken (`taken` false: read again).
    std::vector<v1::Event> resync(const std::string& room_id,
                                  const std::vector<v1::Member>& members, std::uint64_t version,
                                  std::uint64_t now_ms, bool* taken = nullptr);

    // Everyone in the view, by member id.
    std::vector<v1::Member> members() const;
    // Everyone in the view in the order this instance saw them arrive (those present when it
    // began serving the room first, by member id).
    std::vector<v1::Member> members_by_arrival() const;

private:
    struct Change {
        std::uint64_t version;
        bool joined;
        v1::Member member;
    };
    void record(std::uint64_t version, bool joined, const v1::Member& member);
    void put(const v1::Member& member, bool joined);
    void arrived(const std::string& member_id);

    // Changes kept to bring an older snapshot forward: enough for the changes that arrive
    // while one snapshot is read, bounded so a busy room's view stays small.
    static constexpr std::size_t kRecentChanges = 1024;

    bool known_ = false;
    std::uint64_t version_ = 0;
    std::uint64_t complete_through_ = 0;  // every change up to here is in the view
    std::map<std::string, v1::Member> members_;
    std::deque<Change> recent_;                     // ascending versions
    std::map<std::string, std::uint64_t> arrival_;  // member id -> order of arrival here
    std::uint64_t arrivals_ = 0;
};

}  // namespace haven::rooms
