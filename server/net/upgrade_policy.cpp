#include "net/upgrade_policy.hpp"

#include <algorithm>

#include "net/ws_frames.hpp"

namespace haven::net {

std::optional<SubprotocolChoice> choose_subprotocol(std::string_view offered) {
    if (offered.find_first_not_of(" \t") == std::string_view::npos) return SubprotocolChoice{};
    std::size_t start = 0;
    while (start <= offered.size()) {
        std::size_t end = std::min(offered.find(',', start), offered.size());
        std::string_view token = offered.substr(start, end - start);
        const auto first = token.find_first_not_of(" \t");
        const auto last = token.find_last_not_of(" \t");
        token = first == std::string_view::npos ? std::string_view{}
                                                : token.substr(first, last - first + 1);
        if (token == protocol::kBinarySubprotocol) {
            return SubprotocolChoice{protocol::Encoding::binary, std::string(token)};
        }
        if (token == protocol::kJsonSubprotocol) {
            return SubprotocolChoice{protocol::Encoding::json, std::string(token)};
        }
        start = end + 1;
    }
    return std::nullopt;
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
    if (origin.empty() || allowed.empty()) return true;
    return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

std::variant<SubprotocolChoice, UpgradeRefusal> check_upgrade(
    std::string_view target, std::string_view origin, std::string_view offered_subprotocols,
    const std::vector<std::string>& allowed_origins) {
    if (target.substr(0, target.find('?')) != "/ws") {
        return UpgradeRefusal{404, "WebSocket endpoint is /ws\n"};
    }
    if (!origin_allowed(origin, allowed_origins))
        return UpgradeRefusal{403, "origin not allowed\n"};
    if (auto choice = choose_subprotocol(offered_subprotocols)) return std::move(*choice);
    return UpgradeRefusal{400, "unsupported subprotocol: offer haven.v1.proto or haven.v1.json\n"};
}

Handshake check_handshake(std::string_view version, std::string_view key) {
    if (version != "13") return Handshake::wrong_version;
    if (!ws::valid_client_key(key)) return Handshake::bad_key;
    return Handshake::accept;
}

}  // namespace haven::net
