// Server frames as they go on the wire, and batches of them: several messages for one
// connection that go out in one write, which is what a room's members get when more than one
// event reached the room during one turn of the shard's event loop. RFC 6455 framing, the
// writing side only (server frames are never masked nor fragmented); net/ws_frames parses
// what clients send. Plain bytes out, no socket: the rooms build batches with it, the
// WebSocket session and its outbound queue frame single messages with it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/codec.hpp"

namespace haven::protocol {

namespace ws {

// RFC 6455 frame opcodes.
enum Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// The opcode of data frames in `encoding`: text for JSON, binary for protobuf.
inline Opcode data_opcode(Encoding encoding) {
    return encoding == Encoding::json ? text : binary;
}

// The header of an unmasked, unfragmented server frame: 2 to 10 bytes.
struct ServerHeader {
    std::array<std::uint8_t, 10> bytes{};
    std::uint8_t size = 0;
};
ServerHeader server_header(std::uint8_t opcode, std::uint64_t payload_size);

// Unfragmented server frames carrying `payloads`, back to back, ready for a single write.
std::string server_frames(std::uint8_t opcode, const std::vector<Frame>& payloads);

}  // namespace ws

struct FrameBatch {
    std::vector<Frame> frames;  // the encoded messages, in order
    // The same messages as WebSocket data frames, back to back: built once per room and turn
    // and shared by every member, so each member's connection queues and writes one buffer.
    Frame wire;
};

// The batch of `frames` (encoded in `encoding`, none null) for connections speaking
// `encoding`: the frames kept as they are, and framed once as data frames in `wire`.
FrameBatch make_frame_batch(std::vector<Frame> frames, Encoding encoding);

}  // namespace haven::protocol
