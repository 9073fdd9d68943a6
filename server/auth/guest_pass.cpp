#include "auth/guest_pass.hpp"

#include <stdexcept>

#include <openssl/rand.h>
#include <boost/json.hpp>

#include "auth/hs256.hpp"

namespace haven::auth {

GuestPasses::GuestPasses(std::string secret, std::int64_t lifetime_seconds)
    : secret_(std::move(secret)),
      lifetime_seconds_(lifetime_seconds),
      verifier_(JwtVerifierOptions{secret_, "haven-guest", 0}) {}

std::string GuestPasses::issue(const std::string& subject, const std::string& handle,
                               std::int64_t now) const {
    boost::json::object claims;
    claims["sub"] = subject;
    claims["name"] = handle;
    claims["iss"] = "haven-guest";
    claims["exp"] = now + lifetime_seconds_;
    return sign_hs256(R"({"alg":"HS256","typ":"JWT"})", boost::json::serialize(claims), secret_);
}

std::optional<Claims> GuestPasses::verify(std::string_view pass, std::int64_t now) const {
    TokenResult result = verifier_.verify(pass, now);
    if (!result.claims || result.claims->role != Role::participant) return std::nullopt;
    return result.claims;
}

std::string GuestPasses::derived_key(std::string_view purpose) const {
    return hmac_sha256(secret_, purpose).value_or(std::string(purpose));
}

std::string random_secret() {
    std::string secret(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                   static_cast<int>(secret.size())) != 1) {
        throw std::runtime_error("no randomness available for the guest pass secret");
    }
    return secret;
}

}  // namespace haven::auth
