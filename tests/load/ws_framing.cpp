#include "ws_framing.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace haven::load::ws {
namespace {

// A fixed key is allowed for a test tool (RFC 6455 wants it unpredictable to protect
// intermediaries from cache poisoning by hostile scripts, which do not exist here). Its accept
// value is the RFC's own worked example.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kExpectedAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
constexpr std::string_view kSubprotocol = "haven.v1.proto";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::string upgrade_request(std::string_view host_port) {
    std::string request;
    request.reserve(256);
    request += "GET /ws HTTP/1.1\r\nHost: ";
    request += host_port;
    request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    request += kKey;
    request += "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ";
    request += kSubprotocol;
    request += "\r\nUser-Agent: haven-load\r\n\r\n";
    return request;
}

UpgradeStatus parse_upgrade_response(std::string_view bytes, std::size_t& header_bytes,
                                     std::string& why) {
    const std::size_t end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (bytes.size() > 16384) {
            why = "HTTP response head too long";
            return UpgradeStatus::refused;
        }
        return UpgradeStatus::incomplete;
    }
    header_bytes = end + 4;
    std::string_view head = bytes.substr(0, end + 2);
    const std::size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (status_line.substr(0, 12) != "HTTP/1.1 101") {
        why = "upgrade refused: " + std::string(status_line);
        return UpgradeStatus::refused;
    }
    bool accept_ok = false;
    bool protocol_ok = false;
    head.remove_prefix(line_end + 2);
    while (!head.empty()) {
        const std::size_t eol = head.find("\r\n");
        const std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Sec-WebSocket-Accept")) accept_ok = value == kExpectedAccept;
        if (iequals(name, "Sec-WebSocket-Protocol")) protocol_ok = value == kSubprotocol;
    }
    if (!accept_ok) {
        why = "upgrade response without the expected Sec-WebSocket-Accept";
        return UpgradeStatus::refused;
    }
    if (!protocol_ok) {
        why = "server did not select subprotocol haven.v1.proto";
        return UpgradeStatus::refused;
    }
    return UpgradeStatus::accepted;
}

std::size_t write_client_frame(char* out, Opcode opcode, const char* payload,
                               std::size_t payload_size, std::uint32_t mask_key) {
    std::size_t n = 0;
    out[n++] = static_cast<char>(0x80 | opcode);
    if (payload_size < 126) {
        out[n++] = static_cast<char>(0x80 | payload_size);
    } else if (payload_size <= 0xFFFF) {
        out[n++] = static_cast<char>(0x80 | 126);
        out[n++] = static_cast<char>(payload_size >> 8);
        out[n++] = static_cast<char>(payload_size & 0xFF);
    } else {
        out[n++] = static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            out[n++] = static_cast<char>((std::uint64_t{payload_size} >> shift) & 0xFF);
        }
    }
    unsigned char key[4];
    std::memcpy(key, &mask_key, 4);
    std::memcpy(out + n, key, 4);
    n += 4;
    for (std::size_t i = 0; i < payload_size; ++i) {
        out[n + i] = static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i & 3]);
    }
    return n + payload_size;
}

}  // namespace haven::load::ws
