// base64url (RFC 4648 section 5) without padding, the encoding of every JWT segment.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace haven::auth {

// Strict: rejects '=' padding, characters outside [A-Za-z0-9_-], impossible lengths and
// non-zero leftover bits, so each byte string has exactly one accepted encoding.
std::optional<std::string> base64url_decode(std::string_view text);

std::string base64url_encode(std::string_view bytes);

}  // namespace haven::auth
