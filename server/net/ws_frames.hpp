// RFC 6455 framing, as the server needs it: parsing client frame headers, answering close
// frames, and the handshake's accept key. Plain bytes in, plain bytes out: the WebSocket
// session drives the socket, and the unit tests drive this directly. Server frames are
// written by protocol/frame_batch, which the room fan-out shares.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/frame_batch.hpp"

namespace haven::net::ws {

// The opcodes are protocol/frame_batch's, named here as well for the parsing side.
using protocol::ws::Opcode;
using enum protocol::ws::Opcode;

struct FrameHeader {
    bool fin = false;
    std::uint8_t opcode = 0;
    std::uint64_t payload_size = 0;
    std::array<std::uint8_t, 4> mask{};
    std::size_t header_size = 0;  // bytes before the payload
};

enum class ParseResult { complete, need_more, protocol_error };

// Reads a client frame header. protocol_error covers what RFC 6455 says to fail the
// connection for (1002): reserved bits (no extension is negotiated), unknown opcodes, an
// unmasked client frame, control frames that are fragmented or longer than 125 bytes, and
// 64-bit lengths with the top bit set or lengths not in their shortest form.
ParseResult parse_client_header(const std::uint8_t* data, std::size_t size, FrameHeader& out);

inline bool is_control(std::uint8_t opcode) {
    return (opcode & 0x8) != 0;
}

// Unmasks in place; `offset` is the position of `data` within the frame's payload.
void unmask(std::uint8_t* data, std::size_t size, const std::array<std::uint8_t, 4>& mask,
            std::size_t offset = 0);

// The code to answer a client's close frame with (RFC 6455 5.5.1, 7.4): its own code when that
// is one a peer may send (1000-1003, 1007-1014, 3000-4999), 1000 for an empty body, 1002 for
// a one-byte body or a code that may not be sent (0-999, 1004-1006, 1015, 5000 and up), and
// 1007 for a reason that is not UTF-8.
std::uint16_t close_reply(std::string_view payload);

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view client_key);

// Whether a Sec-WebSocket-Key is well-formed: base64 of 16 bytes.
bool valid_client_key(std::string_view client_key);

}  // namespace haven::net::ws
