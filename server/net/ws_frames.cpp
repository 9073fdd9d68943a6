#include "net/ws_frames.hpp"

#include <algorithm>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "protocol/utf8.hpp"

namespace haven::net::ws {

ParseResult parse_client_header(const std::uint8_t* data, std::size_t size, FrameHeader& out) {
    if (size < 2) return ParseResult::need_more;
    const std::uint8_t first = data[0];
    const std::uint8_t second = data[1];
    if ((first & 0x70) != 0) return ParseResult::protocol_error;  // RSV1-3
    out.fin = (first & 0x80) != 0;
    out.opcode = first & 0x0F;
    switch (out.opcode) {
        case continuation:
        case text:
        case binary:
        case close:
        case ping:
        case pong:
            break;
        default:
            return ParseResult::protocol_error;
    }
    if ((second & 0x80) == 0) return ParseResult::protocol_error;  // clients must mask
    std::uint64_t length = second & 0x7F;
    std::size_t position = 2;
    if (length == 126) {
        if (size < position + 2) return ParseResult::need_more;
        length = (std::uint64_t{data[2]} << 8) | data[3];
        if (length < 126) return ParseResult::protocol_error;
        position += 2;
    } else if (length == 127) {
        if (size < position + 8) return ParseResult::need_more;
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | data[2 + i];
        if ((length >> 63) != 0 || length <= 0xFFFF) return ParseResult::protocol_error;
        position += 8;
    }
    if (is_control(out.opcode) && (!out.fin || length > 125)) return ParseResult::protocol_error;
    if (size < position + 4) return ParseResult::need_more;
    for (int i = 0; i < 4; ++i) out.mask[static_cast<std::size_t>(i)] = data[position + i];
    out.payload_size = length;
    out.header_size = position + 4;
    return ParseResult::complete;
}

void unmask(std::uint8_t* data, std::size_t size, const std::array<std::uint8_t, 4>& mask,
            std::size_t offset) {
    for (std::size_t i = 0; i < size; ++i) data[i] ^= mask[(offset + i) & 3];
}

std::uint16_t close_reply(std::string_view payload) {
    constexpr std::uint16_t kNormal = 1000, kProtocolError = 1002, kInvalidPayload = 1007;
    if (payload.empty()) return kNormal;
    if (payload.size() == 1) return kProtocolError;
    const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                 static_cast<unsigned char>(payload[1]));
    const bool sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    if (!sendable) return kProtocolError;
    if (!protocol::utf8_length(payload.substr(2))) return kInvalidPayload;
    return code;
}

std::string accept_key(std::string_view client_key) {
    static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input(client_key);
    input += kGuid;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    const int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
}

bool valid_client_key(std::string_view client_key) {
    // 16 bytes in base64 are 22 characters of its alphabet and "==" (EVP_DecodeBlock, used
    // here before, also took padding inside the key: "dGhNhbXFsZSBub25jZQ==Q==").
    if (client_key.size() != 24 || client_key.substr(22) != "==") return false;
    return std::all_of(client_key.begin(), client_key.begin() + 22, [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/';
    });
}

}  // namespace haven::net::ws
