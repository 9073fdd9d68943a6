// Verification of the identity tokens the operator's own identity system signs. Only the
// algorithms configured are accepted; "none" and unknown algorithms are always rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haven::auth {

// Longer tokens are rejected as malformed before any decoding: a real identity token is a few
// hundred bytes, so anything this big is a mistake or an attempt to make us do work.
inline constexpr std::size_t max_token_bytes = 8 * 1024;

enum class Role { participant, peer_supporter, moderator, operator_ };

struct Claims {
    std::string subject;  // stable pseudonymous id (sub)
    std::string handle;   // display handle (name)
    Role role = Role::participant;
    std::int64_t expires_at = 0;  // seconds since the epoch (exp)
};

enum class TokenError {
    malformed,        // not three base64url parts of JSON
    unsupported_alg,  // alg is none or not configured
    bad_signature,
    expired,
    missing_claim,  // sub, name or exp absent, mistyped or oversized; nbf mistyped
    bad_role,       // role present but unknown
    wrong_issuer,
    not_yet_valid,  // nbf is still in the future (beyond the leeway)
};

struct TokenResult {
    std::optional<Claims> claims;
    TokenError error = TokenError::malformed;  // meaningful when claims is empty
};

struct JwtVerifierOptions {
    std::string hs256_secret;  // empty = HS256 disabled
    std::string issuer;        // empty = iss not checked
    std::int64_t leeway_seconds = 30;
};

class JwtVerifier {
public:
    explicit JwtVerifier(JwtVerifierOptions options);
    bool enabled() const;
    // now: seconds since the epoch, passed in so tests control time.
    TokenResult verify(std::string_view token, std::int64_t now) const;

private:
    JwtVerifierOptions options_;
};

std::string_view to_string(Role role);
std::optional<Role> role_from_string(std::string_view name);
std::string_view to_string(TokenError error);

}  // namespace haven::auth
