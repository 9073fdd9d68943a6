// The checks on a WebSocket upgrade request, without Beast: the endpoint, whether the page's
// Origin may connect, which subprotocol to speak, and the handshake's version and key.
// net/http_session and net/websocket_upgrade answer what these decide.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/codec.hpp"

namespace haven::net {

struct SubprotocolChoice {
    protocol::Encoding encoding = protocol::Encoding::binary;
    std::string name;  // echoed to the client; empty when it offered none
};

// From the Sec-WebSocket-Protocol header (comma-separated offers, in the client's order of
// preference). No header: binary protobuf. Offers but none of Haven's: nothing (refuse).
std::optional<SubprotocolChoice> choose_subprotocol(std::string_view offered);

// Browsers always send Origin; other clients may not, and cannot be driven by a hostile page,
// so an absent Origin is allowed. An empty allow-list allows every origin (development).
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);

// Why an upgrade request is refused before the handshake: the status and the text answered.
struct UpgradeRefusal {
    unsigned status = 400;
    std::string_view body;
};

// The checks before the handshake, in this order: the target's path (before any query) must
// be /ws (else 404), the Origin allowed (else 403), a subprotocol of Haven's offered or none
// at all (else 400). Gives the subprotocol to speak, or the refusal.
std::variant<SubprotocolChoice, UpgradeRefusal> check_upgrade(
    std::string_view target, std::string_view origin, std::string_view offered_subprotocols,
    const std::vector<std::string>& allowed_origins);

// The handshake's own checks (RFC 6455 section 4.2.1): Sec-WebSocket-Version 13 (else 426
// Upgrade Required, naming 13) and a Sec-WebSocket-Key of 16 base64-encoded bytes (else 400).
enum class Handshake { accept, wrong_version, bad_key };
Handshake check_handshake(std::string_view version, std::string_view key);

}  // namespace haven::net
