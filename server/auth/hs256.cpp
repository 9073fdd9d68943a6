#include "auth/hs256.hpp"

#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auth/base64url.hpp"

namespace haven::auth {

namespace {

// OpenSSL 3's one-shot HMAC() looks the algorithm and digest up by name on every call (locks
// and string compares: most of the cost of issuing a guest pass). Each thread keeps a context
// per key instead, keyed once; a MAC is then a reset of that context plus the hashing. Only
// the server's own few secrets are ever used as keys; past kMaxKeys a context is made for the
// one call.
class MacContexts {
public:
    MacContexts() : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)) {}
    ~MacContexts() {
        for (auto& [key, context] : keyed_) {
            OPENSSL_cleanse(key.data(), key.size());
            EVP_MAC_CTX_free(context);
        }
        EVP_MAC_free(mac_);
    }
    MacContexts(const MacContexts&) = delete;
    MacContexts& operator=(const MacContexts&) = delete;

    std::optional<std::string> mac(std::string_view key, std::string_view data) {
        if (mac_ == nullptr) return std::nullopt;
        for (auto& [known, context] : keyed_) {
            // A null key re-initialises the context with the key it already has.
            if (known == key)
                return finish(context, EVP_MAC_init(context, nullptr, 0, nullptr), data);
        }
        EVP_MAC_CTX* context = EVP_MAC_CTX_new(mac_);
        if (context == nullptr) return std::nullopt;
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                     OSSL_PARAM_construct_end()};
        // A null key means "the key set before"; an empty key still needs a real pointer.
        static const unsigned char kNoKey = 0;
        const auto* key_bytes =
            key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data());
        const int ready = EVP_MAC_init(context, key_bytes, key.size(), params);
        if (keyed_.size() < kMaxKeys && ready == 1) {
            keyed_.emplace_back(std::string(key), context);
            return finish(context, ready, data);
        }
        auto result = finish(context, ready, data);
        EVP_MAC_CTX_free(context);
        return result;
    }

private:
    static std::optional<std::string> finish(EVP_MAC_CTX* context, int ready,
                                             std::string_view data) {
        std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
        std::size_t mac_len = 0;
        if (ready != 1 ||
            EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(data.data()),
                           data.size()) != 1 ||
            EVP_MAC_final(context, mac.data(), &mac_len, mac.size()) != 1 ||
            mac_len != kSha256Bytes) {
            return std::nullopt;
        }
        return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
    }

    static constexpr std::size_t kMaxKeys = 8;
    EVP_MAC* mac_;
    std::vector<std::pair<std::string, EVP_MAC_CTX*>> keyed_;
};

}  // namespace

std::optional<std::string> hmac_sha256(std::string_view key, std::string_view data) {
    thread_local MacContexts contexts;
    return contexts.mac(key, data);
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
