// Guest passes: the server's own signed tokens that let a guest who reconnects stay the same
// guest (same pseudonymous subject and handle), so a post retried after a dropped connection
// is still recognised as theirs. Signed with a secret shared by all instances (or a random
// one per process when none is configured).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/jwt.hpp"

namespace haven::auth {

class GuestPasses {
public:
    explicit GuestPasses(std::string secret, std::int64_t lifetime_seconds = 24 * 3600);

    std::string issue(const std::string& subject, const std::string& handle,
                      std::int64_t now) const;
    // The guest's claims (role participant), or nothing when the pass is not valid.
    std::optional<Claims> verify(std::string_view pass, std::int64_t now) const;

    // A key for another purpose derived from the shared secret (HMAC of `purpose`), so
    // values made with it agree on every instance without the secret itself being used twice.
    std::string derived_key(std::string_view purpose) const;

private:
    std::string secret_;
    std::int64_t lifetime_seconds_;
    JwtVerifier verifier_;
};

// 256 random bits, for a per-process guest pass secret.
std::string random_secret();

}  // namespace haven::auth
