// Identity tokens minted by Haven's own tool (haven-admin token), for development and for
// letting a new moderator in before an identity system is connected: HS256 with the
// server's auth.jwt_hs256_secret, carrying what the verifier checks (sub, name, role, rooms,
// exp, and iss / aud when the server is configured with them).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "auth/jwt.hpp"

namespace haven::auth {

struct TokenRequest {
    std::string subject;
    std::string name;
    Role role = Role::participant;
    std::map<std::string, Role> room_roles;  // per-room grants ("rooms" claim)
    std::int64_t expires_at = 0;             // seconds since the epoch
    std::string issuer;                      // empty: no iss
    std::string audience;                    // empty: no aud
};

// The signed compact token. `secret` is auth.jwt_hs256_secret (32 bytes or more).
std::string mint_hs256_token(const TokenRequest& request, std::string_view secret);

}  // namespace haven::auth
