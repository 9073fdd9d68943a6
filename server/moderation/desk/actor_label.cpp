#include "moderation/desk/actor_label.hpp"

#include "auth/hs256.hpp"

namespace haven::moderation {

std::string actor_label(std::string_view key, std::string_view room_id, std::string_view subject) {
    if (subject.empty()) return {};
    std::string data(room_id);
    data += '\n';
    data += subject;
    const auto mac = auth::hmac_sha256(key, data);
    if (!mac) return "actor";
    static constexpr char kHex[] = "0123456789abcdef";
    std::string label = "actor-";
    for (std::size_t i = 0; i < 6; ++i) {
        const auto byte = static_cast<unsigned char>((*mac)[i]);
        label.push_back(kHex[byte >> 4]);
        label.push_back(kHex[byte & 15]);
    }
    return label;
}

}  // namespace haven::moderation
