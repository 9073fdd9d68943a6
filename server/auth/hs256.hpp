// HMAC-SHA256 and compact-JWT signing, shared by token verification, the server's own guest
// passes and the tools that mint test tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace haven::auth {

inline constexpr std::size_t kSha256Bytes = 32;

// The 32-byte MAC, or nothing if OpenSSL refuses (absurdly long key).
std::optional<std::string> hmac_sha256(std::string_view key, std::string_view data);

// `base64url(header).base64url(payload).base64url(HMAC)`.
std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       std::string_view secret);

}  // namespace haven::auth
