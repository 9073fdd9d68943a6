// Builds compact JWTs for tests, including deliberately bad ones the verifier must refuse.
#pragma once

#include <string>

namespace haven::test {

// header_json and payload_json are encoded exactly as given, so tests can put anything in them.
std::string make_hs256_token(const std::string& payload_json, const std::string& secret,
                             const std::string& header_json = R"({"alg":"HS256","typ":"JWT"})");

// An "alg":"none" token with an empty signature segment ("header.payload.").
std::string make_unsigned_token(const std::string& payload_json);

}  // namespace haven::test
