#include "net/upgrade_policy.hpp"

#include <algorithm>

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

}  // namespace haven::net
