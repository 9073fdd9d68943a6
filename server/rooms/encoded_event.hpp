// One room event, encoded once per encoding in use, shared by every shard that delivers it.
#pragma once

#include <string>

#include "protocol/codec.hpp"

namespace haven::rooms {

struct EncodedEvent {
    std::string room_id;
    protocol::Frame binary;
    protocol::Frame json;   // null when the room had no JSON members when it was encoded
    bool presence = false;  // member_joined or member_left: may reach members a little later
    const protocol::Frame& frame(protocol::Encoding encoding) const {
        return encoding == protocol::Encoding::json ? json : binary;
    }
};

}  // namespace haven::rooms
