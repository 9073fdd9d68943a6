// WebSocket close codes Haven uses. Codes 4000-4099 are Haven's own; the comment on each says
// whether a client should reconnect.
#pragma once

#include <cstdint>

namespace haven::protocol {

enum class CloseCode : std::uint16_t {
    normal = 1000,            // the client left; no reconnect
    going_away = 1001,        // server shutting down; reconnect with backoff
    protocol_error = 1002,    // the peer broke the WebSocket protocol; fix the client
    invalid_payload = 1007,   // text frame that is not UTF-8; fix the client
    policy_violation = 1008,  // e.g. an unexpected frame type; fix the client
    too_big = 1009,           // frame over the configured maximum; fix the client
    internal_error = 1011,    // server bug; reconnect with backoff
    hello_timeout = 4000,     // no Hello in time; reconnect when ready
    token_expired = 4001,     // the token expired without a Refresh; reconnect with a new one
    banned = 4003,            // banned by a moderator; do not reconnect automatically
    disconnected = 4004,      // an operator ended the session; do not reconnect automatically
    slow_consumer = 4008,  // the client fell too far behind; reconnect and recover with since_seq
};

}  // namespace haven::protocol
