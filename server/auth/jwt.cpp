#include "auth/jwt.hpp"

#include <array>
#include <climits>
#include <limits>
#include <utility>

#include <openssl/crypto.h>
#include <boost/json.hpp>

#include "auth/base64url.hpp"
#include "auth/hs256.hpp"

// Nothing in this file logs: tokens are bearer credentials, and even a rejected one may be
// valid for another service, so neither tokens nor their claims may reach a log.

namespace haven::auth {

namespace {

constexpr std::size_t max_subject_bytes = 128;
constexpr std::size_t max_handle_bytes = 64;

TokenResult reject(TokenError error) {
    return TokenResult{std::nullopt, error};
}

struct Segments {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
    std::string_view signing_input;  // "header.payload", the bytes the signature covers
};

// Exactly three dot-separated parts; any other count is malformed.
std::optional<Segments> split_token(std::string_view token) {
    const auto first = token.find('.');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    return Segments{token.substr(0, first), token.substr(first + 1, second - first - 1),
                    token.substr(second + 1), token.substr(0, second)};
}

// Decodes a segment and parses it as a JSON object. Boost.JSON keeps the last of duplicate
// member names, which RFC 7515 section 4 permits.
std::optional<boost::json::object> decode_json_object(std::string_view segment) {
    const auto text = base64url_decode(segment);
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(*text, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    // ASCII only, on purpose: std::tolower depends on the locale.
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// The header is read before the signature is checked, so it may only narrow what is accepted,
// never widen it: exactly one algorithm passes, and only when it is configured.
std::optional<TokenError> check_header(const boost::json::object& header, bool hs256_enabled) {
    const auto* typ = header.if_contains("typ");
    if (typ && (!typ->is_string() || !iequals(typ->get_string(), "JWT"))) {
        return TokenError::malformed;
    }
    // "crit" names extensions the recipient must understand; we understand none.
    if (header.contains("crit")) {
        return TokenError::malformed;
    }
    // The one exact comparison is the whole algorithm policy: it also rules out "none" in any
    // spelling, "hs256", and every algorithm we hold no key for.
    const auto* alg = header.if_contains("alg");
    if (!hs256_enabled || !alg || !alg->is_string() || alg->get_string() != "HS256") {
        return TokenError::unsupported_alg;
    }
    return std::nullopt;
}

bool signature_matches(std::string_view secret, std::string_view signing_input,
                       std::string_view signature) {
    if (signature.size() != kSha256Bytes) return false;
    const auto mac = hmac_sha256(secret, signing_input);
    if (!mac) return false;
    // Constant time, so response timing does not reveal how many leading bytes were right.
    return CRYPTO_memcmp(mac->data(), signature.data(), kSha256Bytes) == 0;
}

// A JSON integer that fits in int64. Fractional NumericDates (legal in RFC 7519) are refused
// rather than rounded, so there is one unambiguous reading of every accepted time.
std::optional<std::int64_t> as_int64(const boost::json::value& value) {
    if (value.is_int64()) {
        return value.get_int64();
    }
    if (value.is_uint64() && value.get_uint64() <= static_cast<std::uint64_t>(
                                                       std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(value.get_uint64());
    }
    return std::nullopt;
}

// A non-empty string of at most max_bytes, or nothing.
std::optional<std::string> bounded_string(const boost::json::object& payload, std::string_view key,
                                          std::size_t max_bytes) {
    const auto* value = payload.if_contains(key);
    if (!value || !value->is_string()) {
        return std::nullopt;
    }
    const auto& text = value->get_string();
    if (text.empty() || text.size() > max_bytes) {
        return std::nullopt;
    }
    return std::string(text);
}

// Time arithmetic saturates so extreme claim values cannot wrap around into acceptance.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    }
    return sum;
}

TokenResult read_claims(const boost::json::object& payload, const JwtVerifierOptions& options,
                        std::int64_t now) {
    Claims claims;
    auto subject = bounded_string(payload, "sub", max_subject_bytes);
    auto handle = bounded_string(payload, "name", max_handle_bytes);
    const auto* exp_value = payload.if_contains("exp");
    const auto exp = exp_value ? as_int64(*exp_value) : std::nullopt;
    if (!subject || !handle || !exp) {
        return reject(TokenError::missing_claim);
    }
    claims.subject = std::move(*subject);
    claims.handle = std::move(*handle);
    claims.expires_at = *exp;

    // A negative leeway would make valid tokens fail; treat it as none.
    const std::int64_t leeway = options.leeway_seconds > 0 ? options.leeway_seconds : 0;
    if (now > saturating_add(claims.expires_at, leeway)) {
        return reject(TokenError::expired);
    }
    if (const auto* nbf_value = payload.if_contains("nbf")) {
        const auto nbf = as_int64(*nbf_value);
        if (!nbf) {
            return reject(TokenError::missing_claim);
        }
        if (saturating_add(now, leeway) < *nbf) {
            return reject(TokenError::not_yet_valid);
        }
    }

    if (const auto* role_value = payload.if_contains("role")) {
        const auto role =
            role_value->is_string() ? role_from_string(role_value->get_string()) : std::nullopt;
        if (!role) {
            return reject(TokenError::bad_role);
        }
        claims.role = *role;
    }

    if (!options.issuer.empty()) {
        const auto* iss = payload.if_contains("iss");
        if (!iss || !iss->is_string() || iss->get_string() != options.issuer) {
            return reject(TokenError::wrong_issuer);
        }
    }
    return TokenResult{std::move(claims), TokenError::malformed};
}

TokenResult verify_token(std::string_view token, const JwtVerifierOptions& options,
                         std::int64_t now) {
    if (token.size() > max_token_bytes) {
        return reject(TokenError::malformed);
    }
    const auto segments = split_token(token);
    if (!segments) {
        return reject(TokenError::malformed);
    }
    // All three segments must be valid base64url before anything is judged, so a structurally
    // broken token is always reported as malformed whatever its header says.
    const auto payload_text = base64url_decode(segments->payload);
    const auto signature = base64url_decode(segments->signature);
    const auto header = decode_json_object(segments->header);
    if (!payload_text || !signature || !header) {
        return reject(TokenError::malformed);
    }
    if (const auto error = check_header(*header, !options.hs256_secret.empty())) {
        return reject(*error);
    }
    if (!signature_matches(options.hs256_secret, segments->signing_input, *signature)) {
        return reject(TokenError::bad_signature);
    }
    // Only authenticated bytes reach the JSON parser from here on.
    boost::system::error_code ec;
    const boost::json::value payload = boost::json::parse(*payload_text, ec);
    if (ec || !payload.is_object()) {
        return reject(TokenError::malformed);
    }
    return read_claims(payload.get_object(), options, now);
}

}  // namespace

JwtVerifier::JwtVerifier(JwtVerifierOptions options) : options_(std::move(options)) {}

bool JwtVerifier::enabled() const {
    return !options_.hs256_secret.empty();
}

TokenResult JwtVerifier::verify(std::string_view token, std::int64_t now) const {
    // Parse errors come back as error codes, but allocation can still throw; a caller on the
    // connection path must get a rejection, never an exception.
    try {
        return verify_token(token, options_, now);
    } catch (...) {
        return reject(TokenError::malformed);
    }
}

std::string_view to_string(Role role) {
    switch (role) {
        case Role::participant:
            return "participant";
        case Role::peer_supporter:
            return "peer_supporter";
        case Role::moderator:
            return "moderator";
        case Role::operator_:
            return "operator";
    }
    return "participant";
}

std::optional<Role> role_from_string(std::string_view name) {
    for (const Role role :
         {Role::participant, Role::peer_supporter, Role::moderator, Role::operator_}) {
        if (name == to_string(role)) {
            return role;
        }
    }
    return std::nullopt;
}

std::string_view to_string(TokenError error) {
    switch (error) {
        case TokenError::malformed:
            return "malformed";
        case TokenError::unsupported_alg:
            return "unsupported_alg";
        case TokenError::bad_signature:
            return "bad_signature";
        case TokenError::expired:
            return "expired";
        case TokenError::missing_claim:
            return "missing_claim";
        case TokenError::bad_role:
            return "bad_role";
        case TokenError::wrong_issuer:
            return "wrong_issuer";
        case TokenError::not_yet_valid:
            return "not_yet_valid";
    }
    return "malformed";
}

}  // namespace haven::auth
