// The client side of RFC 6455, reduced to what a load generator needs: the HTTP upgrade
// request and response check, parsing of server frames (never masked) straight out of a
// receive buffer, and writing masked client frames. Beast's websocket stream does all of
// this too, but its per-frame cost (a read operation per message, a flat_buffer per stream)
// would make the generator, not the server, the bottleneck at a few hundred thousand
// deliveries per second; here one recv() yields many frames, parsed in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace haven::load::ws {

enum Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// GET /ws with the upgrade headers and Sec-WebSocket-Protocol: haven.v1.proto.
std::string upgrade_request(std::string_view host_port);

enum class UpgradeStatus { incomplete, accepted, refused };

// Looks for the end of the HTTP response in `bytes`. On `accepted` (status 101 with the
// expected Sec-WebSocket-Accept and the haven.v1.proto subprotocol), `header_bytes` is the
// length of the response head; frames may follow it in the same read.
UpgradeStatus parse_upgrade_response(std::string_view bytes, std::size_t& header_bytes,
                                     std::string& why);

// One frame header as read from the server.
struct FrameHeader {
    bool fin = false;
    std::uint8_t opcode = 0;
    std::size_t header_bytes = 0;  // 2, 4 or 10 (servers never mask)
    std::uint64_t payload_bytes = 0;
};

enum class ParseResult { ok, need_more, protocol_error };

// Reads one frame header at `data`. need_more: not even the header is complete yet.
// protocol_error: a masked server frame, reserved bits set (no extension was negotiated), or
// an oversized control frame.
inline ParseResult parse_frame_header(const char* data, std::size_t size, FrameHeader& out) {
    if (size < 2) return ParseResult::need_more;
    const auto b0 = static_cast<std::uint8_t>(data[0]);
    const auto b1 = static_cast<std::uint8_t>(data[1]);
    if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0) return ParseResult::protocol_error;
    out.fin = (b0 & 0x80) != 0;
    out.opcode = b0 & 0x0F;
    std::uint64_t length = b1 & 0x7F;
    std::size_t header = 2;
    if (length == 126) {
        if (size < 4) return ParseResult::need_more;
        length = (std::uint64_t{static_cast<std::uint8_t>(data[2])} << 8) |
                 static_cast<std::uint8_t>(data[3]);
        header = 4;
    } else if (length == 127) {
        if (size < 10) return ParseResult::need_more;
        length = 0;
        for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<std::uint8_t>(data[i]);
        header = 10;
    }
    if ((out.opcode & 0x8) != 0 && (length > 125 || !out.fin)) return ParseResult::protocol_error;
    out.header_bytes = header;
    out.payload_bytes = length;
    return ParseResult::ok;
}

// Largest header a client frame needs: 2 + 8 (length) + 4 (mask key).
inline constexpr std::size_t kMaxClientHeader = 14;

// Writes one complete (FIN) masked client frame carrying `payload` to `out`, which must have
// room for payload_size + kMaxClientHeader bytes. Returns the bytes written.
std::size_t write_client_frame(char* out, Opcode opcode, const char* payload,
                               std::size_t payload_size, std::uint32_t mask_key);

}  // namespace haven::load::ws
