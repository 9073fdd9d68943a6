#include "auth/hs256.hpp"

#include <array>
#include <climits>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/base64url.hpp"

namespace haven::auth {

std::optional<std::string> hmac_sha256(std::string_view key, std::string_view data) {
    if (key.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
             &mac_len) == nullptr ||
        mac_len != kSha256Bytes) {
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
}

std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       std::string_view secret) {
    const std::string signing_input =
        base64url_encode(header_json) + "." + base64url_encode(payload_json);
    const auto mac = hmac_sha256(secret, signing_input);
    if (!mac) throw std::runtime_error("sign_hs256: HMAC failed");
    return signing_input + "." + base64url_encode(*mac);
}

}  // namespace haven::auth
