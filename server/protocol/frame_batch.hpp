// Several messages for one connection that go out in one write: what a room's members get
// when more than one event reached the room during one turn of the shard's event loop.
#pragma once

#include <vector>

#include "protocol/codec.hpp"

namespace haven::protocol {

struct FrameBatch {
    std::vector<Frame> frames;  // the encoded messages, in order
    // The same messages as WebSocket data frames, back to back: built once per room and turn
    // and shared by every member, so each member's connection queues and writes one buffer.
    Frame wire;
};

}  // namespace haven::protocol
