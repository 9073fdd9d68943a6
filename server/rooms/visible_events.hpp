// History as one viewer may see it.
#pragma once

#include <vector>

#include "broker/broker.hpp"
#include "haven.pb.h"
#include "rooms/room.hpp"

namespace haven::rooms {

// Copies `events` into `out` for one viewer: internal fields cleared, and posts a moderator
// hid left out unless the viewer moderates the room.
void add_visible_events(google::protobuf::RepeatedPtrField<v1::Event>& out,
                        const std::vector<broker::EventPtr>& events, const Room& room,
                        v1::Role viewer_role);

}  // namespace haven::rooms
