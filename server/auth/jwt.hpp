// Verification of the identity tokens the operator's own identity system signs. Only the
// algorithms configured are accepted; "none" and unknown algorithms are always rejected.
//
// Algorithms: HS256 with a shared secret, and, so the identity system can keep its private key
// to itself, EdDSA (Ed25519) or RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with a public key. The
// configured key decides which asymmetric algorithm is accepted; the token's header can only
// name it, never choose it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
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
    // Per-room grants from the optional "rooms" claim, e.g. {"lobby": "moderator"}: room id ->
    // role in that room. Parsed and validated only; how a grant combines with `role` is up to
    // the caller. At most max_room_grants entries; ids follow the room id grammar
    // [a-z0-9_-]{1,64}. Anything else in the claim rejects the whole token with bad_role.
    std::map<std::string, Role> room_roles;
};

inline constexpr std::size_t max_room_grants = 256;
inline constexpr std::size_t max_room_id_bytes = 64;

enum class TokenError {
    malformed,        // not three base64url parts of JSON
    unsupported_alg,  // alg is none or not configured
    bad_signature,
    expired,
    missing_claim,  // sub, name or exp absent, mistyped or oversized; nbf mistyped
    bad_role,       // role or a "rooms" grant present but unknown, mistyped or oversized
    wrong_issuer,
    not_yet_valid,   // nbf is still in the future (beyond the leeway)
    wrong_audience,  // an audience is configured and aud does not name it
    duplicate_key,   // the header or the claims name a member twice
};

struct TokenResult {
    std::optional<Claims> claims;
    TokenError error = TokenError::malformed;  // meaningful when claims is empty
};

struct JwtVerifierOptions {
    std::string hs256_secret;  // empty = HS256 disabled
    std::string issuer;        // empty = iss not checked
    std::int64_t leeway_seconds = 30;
    // PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"), empty = EdDSA and RS256 disabled.
    // An Ed25519 key accepts only EdDSA tokens, an RSA key (2048 to 16384 bits) only RS256. It is
    // never used as an HMAC secret. The initializer keeps three-member aggregate initialization
    // free of -Wmissing-field-initializers.
    std::string public_key_pem = {};
    // When set, the aud claim (a string, or an array of strings) must contain it.
    std::string audience = {};
};

struct JwtPublicKey;  // the parsed public key; defined in jwt.cpp to keep OpenSSL out of here

class JwtVerifier {
public:
    // Parses public_key_pem once. Throws std::invalid_argument, with check_public_key's message,
    // when it is set but unusable: validate configuration with check_public_key first.
    explicit JwtVerifier(JwtVerifierOptions options);
    // True when HS256 or a public key is configured.
    bool enabled() const;
    // How long after its exp a token is still accepted (clock differences).
    std::int64_t leeway_seconds() const {
        return options_.leeway_seconds > 0 ? options_.leeway_seconds : 0;
    }
    // "EdDSA" or "RS256" as decided by the configured public key; empty when there is none.
    std::string_view public_key_alg() const;
    // now: seconds since the epoch, passed in so tests control time. Never throws; safe to call
    // concurrently from several threads (copies share the immutable key).
    TokenResult verify(std::string_view token, std::int64_t now) const;

    // Why `pem` is unusable as public_key_pem, as one line that never quotes the key, or nothing
    // when it is fine. Refuses anything but exactly one PUBLIC KEY block holding an Ed25519 key or
    // a valid RSA key of 2048 to 16384 bits.
    static std::optional<std::string> check_public_key(const std::string& pem);

private:
    JwtVerifierOptions options_;
    std::shared_ptr<const JwtPublicKey> public_key_;  // null when no public key is configured
};

std::string_view to_string(Role role);
std::optional<Role> role_from_string(std::string_view name);
std::string_view to_string(TokenError error);

}  // namespace haven::auth
