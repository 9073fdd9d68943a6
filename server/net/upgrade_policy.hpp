// The checks on a WebSocket upgrade request that do not need Beast: which subprotocol to
// speak and whether the page's Origin may connect.
#pragma once

#include <optional>
#include <string>
#include <string_view>
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

}  // namespace haven::net
