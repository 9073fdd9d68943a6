#include "support/token_factory.hpp"

#include "auth/base64url.hpp"
#include "auth/hs256.hpp"

namespace haven::test {

using auth::base64url_encode;

std::string make_hs256_token(const std::string& payload_json, const std::string& secret,
                             const std::string& header_json) {
    return auth::sign_hs256(header_json, payload_json, secret);
}

std::string make_unsigned_token(const std::string& payload_json) {
    return base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
           base64url_encode(payload_json) + ".";
}

}  // namespace haven::test
