// Who is on duty in the whole deployment: the people on duty here, by session, and what every
// other instance last reported about its own. Reports replace that instance's entries whole,
// so a person who goes off duty there disappears with the next report, and an instance that
// stops reporting (killed, cut off) is forgotten after the presence timeout with its people.
//
// Pure state with no clock of its own: the caller passes the time. Owned by shard 0
// (rooms/duty_board).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "haven.pb.h"

namespace haven::moderation {

// The merged roster at one moment, handed to every shard (read-only from then on).
struct DutySnapshot {
    v1::DutyRoster roster;  // one entry per person, by handle
    // Someone on duty could act on a crisis alert in `room_id`: a moderator serving it.
    bool covers(const std::string& room_id) const;
    // The person on duty with this handle is such a moderator for `room_id`.
    bool covered_by(const std::string& handle, const std::string& room_id) const;
    std::size_t moderators() const;  // people on duty who moderate at least one room
};

class DutyRoster {
public:
    // Entries taken from one instance's report (its sessions on duty); more are dropped.
    static constexpr std::size_t kMaxReportEntries = 10'000;

    DutyRoster(std::string instance_id, std::uint64_t timeout_ms)
        : instance_id_(std::move(instance_id)), timeout_ms_(timeout_ms) {}

    // A session here went on duty (or changed its rooms); `clear_local` when it goes off duty
    // or away. Both say whether anything changed.
    bool set_local(std::uint64_t session_id, std::string subject, v1::OnDuty duty);
    bool clear_local(std::uint64_t session_id);
    bool has_local(std::uint64_t session_id) const { return local_.count(session_id) != 0; }

    // What this instance tells the others: one entry per person on duty here.
    v1::DutyReport local_report() const;
    // Another instance's report, heard at `now_ms`. Our own echo is ignored. Says whether the
    // roster changed.
    bool apply(const v1::DutyReport& report, std::uint64_t now_ms);
    // Forgets instances not heard from for the timeout; says whether the roster changed.
    bool expire(std::uint64_t now_ms);

    std::shared_ptr<const DutySnapshot> snapshot() const;

private:
    struct Local {
        std::string subject;
        v1::OnDuty duty;
    };
    struct Remote {
        std::uint64_t heard_ms = 0;
        std::vector<v1::DutyReport::Entry> entries;
    };

    std::string instance_id_;
    std::uint64_t timeout_ms_;
    std::map<std::uint64_t, Local> local_;  // by session id
    std::map<std::string, Remote> remote_;  // by instance id
};

// Adds `value` to a list of room ids unless it is there already.
void add_once(google::protobuf::RepeatedPtrField<std::string>& list, const std::string& value);
// `into` absorbs `from` (the same person on duty in two places): the union of their rooms.
void merge_duty(v1::OnDuty& into, const v1::OnDuty& from);

}  // namespace haven::moderation
