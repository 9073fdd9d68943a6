// Encodes the room list every Welcome carries.
//
// The list is the same for everyone except for its live member counts, and with hundreds of
// declared rooms, building it as protobuf objects and serialising it for each connection was
// most of the cost of a connect. So each room's fixed fields are serialised once, and a binary
// Welcome is assembled on the wire: the message without rooms, then one `rooms` entry per room
// made of its cached bytes and its current member count. Protobuf parsers accept fields in any
// order, so the result decodes exactly like the message built field by field (the JSON
// encoding, used by text clients only, still builds it that way).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "haven.pb.h"
#include "meetings/meeting_schedule.hpp"
#include "protocol/codec.hpp"
#include "rooms/room_directory.hpp"

namespace haven::rooms {

// What people are told about a room, except its member count and its next meeting.
v1::RoomInfo room_info(const config::RoomConfig& room);
// A meeting room's occurrence open or in session at `now_ms`, else its next; none without a
// schedule or when no occurrence remains.
std::optional<v1::MeetingTimes> meeting_times(const meetings::MeetingSchedule& schedule,
                                              std::uint64_t now_ms);

class RoomListEncoder {
public:
    explicit RoomListEncoder(const RoomDirectory& directory);

    // `message` holds a Welcome (and its request id) without rooms; the frame adds every room
    // of the directory with its member count at this moment.
    protocol::Frame encode_welcome(v1::ServerMessage& message, protocol::Encoding encoding) const;

private:
    void add_rooms(v1::Welcome& welcome) const;
    std::string binary_welcome(const v1::ServerMessage& message) const;

    const RoomDirectory& directory_;
    std::vector<std::string> fixed_fields_;  // per room: serialised RoomInfo without the count
    // Per room: its schedule, for meeting rooms that have one. Their next meeting is worked
    // out for each Welcome, as it changes with the clock (no other room pays for it).
    std::vector<std::optional<meetings::MeetingSchedule>> schedules_;
};

}  // namespace haven::rooms
