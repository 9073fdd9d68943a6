// This instance's part of a room, held by the room's owner shard and touched only there: which
// local sessions are members, on which shard each lives and which encoding each reads. The
// room-wide member list (every instance) is the Broker's presence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/broker.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "haven.pb.h"
#include "meetings/meeting_schedule.hpp"
#include "moderation/moderation_state.hpp"
#include "protocol/codec.hpp"
#include "rooms/reply_to.hpp"
#include "rooms/room_directory.hpp"
#include "rooms/room_presence.hpp"

namespace haven::rooms {

struct MemberRecord {
    v1::Member member;        // as others see it
    std::string subject;      // the author identity retried posts are recognised by
    std::string handle_key;   // auth::handle_key of member.handle
    std::string address_key;  // guests: their keyed address, for address bans; else empty
    unsigned shard = 0;
    protocol::Encoding encoding = protocol::Encoding::binary;
};

// A join whose snapshot is read and which waits for the room's live stream to reach it: its
// Joined goes out when the last event handed to the sink is the snapshot's last_seq and the
// presence view has the joiner's own arrival, so events before the snapshot are not sent to
// the joiner again and every one after it is.
struct PendingJoin {
    std::uint64_t session_id = 0;
    ReplyTo reply{};
    bool recovered = true;
    broker::HistorySlice slice;          // the events the Joined carries, up to slice.last_seq
    std::uint64_t presence_version = 0;  // the version the joiner's arrival made
    core::SteadyTime since{};
};

class Room {
public:
    // The room holds its configuration: a room closed at run time keeps it until the last
    // flow that uses it is done.
    Room(RoomRef config, unsigned shard_count);

    const config::RoomConfig& config() const { return *config_; }
    // A meeting room's schedule (meetings/meeting_schedule.hpp), when it has one.
    const std::optional<meetings::MeetingSchedule>& schedule() const { return schedule_; }
    bool empty() const { return members_.empty(); }
    std::size_t size() const { return members_.size(); }
    bool contains(std::uint64_t session_id) const { return members_.count(session_id) != 0; }
    const MemberRecord* find(std::uint64_t session_id) const;

    // Returns false when the session is already a member.
    bool add(std::uint64_t session_id, MemberRecord record);
    // Returns the removed record, or nothing when it was not a member.
    std::optional<MemberRecord> remove(std::uint64_t session_id);

    // Shards with at least one local member: where events must go.
    const std::vector<unsigned>& shards_with_members() const { return active_shards_; }
    bool has_json_members() const { return json_members_ > 0; }

    void fill_info(v1::RoomInfo& out, std::uint32_t member_count) const;

    // Every local member's session.
    std::vector<std::uint64_t> session_ids() const;
    // Local members who are this person (all their sessions here).
    std::vector<std::uint64_t> sessions_of(const std::string& subject) const;

    // The room's moderation state. Valid while `moderation_loaded`: loaded from the broker
    // when this instance starts serving the room, then kept current by its events.
    moderation::ModerationState moderation;
    bool moderation_loaded = false;
    // A meeting room's live state (meetings/meeting_floor.hpp): loaded with the moderation
    // state, then kept current by its events.
    v1::MeetingState meeting;

    // Who is in the room on every instance, as this instance's members have been told.
    RoomPresence presence;
    bool presence_read_in_flight = false;
    bool presence_read_again = false;  // asked for while a read was in flight
    // Joins waiting for the live stream to reach their snapshot.
    std::vector<PendingJoin> pending_joins;

private:
    void recount_shards();

    RoomRef config_;
    std::optional<meetings::MeetingSchedule> schedule_;
    std::unordered_map<std::uint64_t, MemberRecord> members_;
    std::vector<std::uint32_t> members_per_shard_;
    std::vector<unsigned> active_shards_;
    std::size_t json_members_ = 0;
};

}  // namespace haven::rooms
