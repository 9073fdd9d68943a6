// JWT verification. Over 400 lines: three signature algorithms and the claim checks, each a short
// function; together they are the one place a token is judged.
#include "auth/jwt.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <boost/json.hpp>

#include "auth/base64url.hpp"
#include "auth/hs256.hpp"
#include "auth/json_duplicate_keys.hpp"

// Nothing in this file logs: tokens are bearer credentials, and even a rejected one may be
// valid for another service, so neither tokens nor their claims may reach a log.

namespace haven::auth {

// Immutable once built, so one instance serves concurrent verify() calls: OpenSSL 3 allows
// concurrent use of an EVP_PKEY as long as nobody modifies it, and every call gets its own
// EVP_MD_CTX.
struct JwtPublicKey {
    struct Free {
        void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
    };
    std::unique_ptr<EVP_PKEY, Free> pkey;
    std::string_view alg;             // "EdDSA" or "RS256", the only alg this key accepts
    const EVP_MD* digest = nullptr;   // SHA-256 for RS256; none for Ed25519 (one-shot)
    std::size_t signature_bytes = 0;  // 64 for Ed25519, the modulus size for RSA
};

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

std::optional<boost::json::object> parse_json_object(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

// ---- the public key --------------------------------------------------------------------------

constexpr int min_rsa_bits = 2048;
constexpr int max_rsa_bits = 16384;  // OpenSSL refuses to verify with larger moduli
constexpr std::size_t max_pem_bytes = 64 * 1024;

// OpenSSL reports failures by queueing errors on the calling thread. Whatever the verifier
// causes is dropped on the way out, so it cannot surface later in an unrelated call on the same
// thread (SSL_get_error on a connection, say).
class OpenSslErrorScope {
public:
    OpenSslErrorScope() { ERR_set_mark(); }
    ~OpenSslErrorScope() { ERR_pop_to_mark(); }
    OpenSslErrorScope(const OpenSslErrorScope&) = delete;
    OpenSslErrorScope& operator=(const OpenSslErrorScope&) = delete;
};

struct OpenSslFree {
    void operator()(void* p) const { OPENSSL_free(p); }
};

struct LoadedKey {
    std::shared_ptr<const JwtPublicKey> key;
    std::string error;  // set when key is null
};

LoadedKey key_error(std::string error) {
    return LoadedKey{nullptr, std::move(error)};
}

// A PEM label for an error message: short and printable, whatever the file holds.
std::string printable_label(const char* label) {
    std::string out;
    for (const char* c = label; *c != '\0' && out.size() < 40; ++c) {
        out.push_back(*c >= ' ' && *c <= '~' ? *c : '?');
    }
    return out;
}

LoadedKey load_public_key(const std::string& pem) {
    const OpenSslErrorScope errors;
    if (pem.size() > max_pem_bytes) {
        return key_error("not a PEM public key (longer than 64 KiB)");
    }
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if (!bio) {
        return key_error("out of memory reading the public key");
    }
    char* name_raw = nullptr;
    char* header_raw = nullptr;
    unsigned char* der_raw = nullptr;
    long der_size = 0;
    const int read = PEM_read_bio(bio.get(), &name_raw, &header_raw, &der_raw, &der_size);
    const std::unique_ptr<char, OpenSslFree> name(name_raw);
    const std::unique_ptr<char, OpenSslFree> header(header_raw);
    const std::unique_ptr<unsigned char, OpenSslFree> der(der_raw);
    if (read != 1 || !name || !der || der_size <= 0) {
        return key_error("not a PEM public key");
    }
    const std::string_view label(name.get());
    if (label.find("PRIVATE KEY") != std::string_view::npos) {
        return key_error(
            "a private key: configure only the identity system's public key "
            "(openssl pkey -pubout)");
    }
    if (label != "PUBLIC KEY") {
        return key_error("not a PEM public key: found a \"" + printable_label(name.get()) +
                         "\" block, need \"PUBLIC KEY\"");
    }
    if (pem.find("-----BEGIN", pem.find("-----BEGIN") + 1) != std::string::npos) {
        return key_error("more than one PEM block: configure exactly one public key");
    }

    // The provider decoder yields a provider-native key, which verification uses as it is:
    // nothing is converted or cached inside the key later, when threads share it.
    EVP_PKEY* pkey_raw = nullptr;
    const std::unique_ptr<OSSL_DECODER_CTX, decltype(&OSSL_DECODER_CTX_free)> decoder(
        OSSL_DECODER_CTX_new_for_pkey(&pkey_raw, "DER", "SubjectPublicKeyInfo", nullptr,
                                      EVP_PKEY_PUBLIC_KEY, nullptr, nullptr),
        &OSSL_DECODER_CTX_free);
    const unsigned char* cursor = der.get();
    std::size_t left = static_cast<std::size_t>(der_size);
    const bool decoded =
        decoder && OSSL_DECODER_from_data(decoder.get(), &cursor, &left) == 1 && left == 0;
    auto key = std::make_shared<JwtPublicKey>();
    key->pkey.reset(pkey_raw);
    if (!decoded || !key->pkey) {
        return key_error(
            "not a PEM public key: the PUBLIC KEY block is not a readable "
            "SubjectPublicKeyInfo");
    }

    EVP_PKEY* const pkey = key->pkey.get();
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        key->alg = "EdDSA";
        key->digest = nullptr;
    } else if (EVP_PKEY_is_a(pkey, "RSA")) {
        const int bits = EVP_PKEY_get_bits(pkey);
        if (bits < min_rsa_bits) {
            return key_error("RSA key shorter than 2048 bits (" + std::to_string(bits) + ")");
        }
        if (bits > max_rsa_bits) {
            return key_error("RSA key longer than 16384 bits (" + std::to_string(bits) + ")");
        }
        // Odd modulus without small factors, odd exponent above 1 (e = 1 would make every
        // signature forgeable).
        const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> check(
            EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr), &EVP_PKEY_CTX_free);
        if (!check || EVP_PKEY_public_check(check.get()) != 1) {
            return key_error("RSA public key is invalid (bad modulus or exponent)");
        }
        key->alg = "RS256";
        key->digest = EVP_sha256();
    } else {
        const char* type = EVP_PKEY_get0_type_name(pkey);
        return key_error("unsupported key type " + printable_label(type ? type : "?") +
                         " (need Ed25519 or RSA)");
    }
    const int size = EVP_PKEY_get_size(pkey);
    if (size <= 0 || (key->digest == nullptr && size != 64)) {
        return key_error("unsupported key type (unexpected signature size)");
    }
    key->signature_bytes = static_cast<std::size_t>(size);
    return LoadedKey{std::move(key), {}};
}

const unsigned char* bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

bool public_key_signature_matches(const JwtPublicKey& key, std::string_view signing_input,
                                  std::string_view signature) {
    if (signature.size() != key.signature_bytes) return false;
    const OpenSslErrorScope errors;
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                          &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pkey_context = nullptr;  // owned by context
    if (!context || EVP_DigestVerifyInit(context.get(), &pkey_context, key.digest, nullptr,
                                         key.pkey.get()) != 1) {
        return false;
    }
    // PKCS#1 v1.5 is OpenSSL's default for RSA keys; said explicitly, since it is what RS256 is.
    if (key.digest != nullptr &&
        EVP_PKEY_CTX_set_rsa_padding(pkey_context, RSA_PKCS1_PADDING) != 1) {
        return false;
    }
    return EVP_DigestVerify(context.get(), bytes(signature), signature.size(), bytes(signing_input),
                            signing_input.size()) == 1;
}

// ---- tokens --------------------------------------------------------------------------------

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

std::optional<TokenError> check_header(const boost::json::object& header) {
    const auto* typ = header.if_contains("typ");
    if (typ && (!typ->is_string() || !iequals(typ->get_string(), "JWT"))) {
        return TokenError::malformed;
    }
    // "crit" names extensions the recipient must understand; we understand none.
    if (header.contains("crit")) {
        return TokenError::malformed;
    }
    return std::nullopt;
}

enum class Method { hmac, public_key };

// The header is read before the signature is checked, so it may only narrow what is accepted,
// never widen it: exactly one algorithm per configured key passes. The exact comparisons are
// the whole algorithm policy: they rule out "none" in any spelling, "hs256", every algorithm we
// hold no key for, and any algorithm other than the one the public key is for. In particular
// the public key is never an HMAC secret, whatever alg says. Header members naming keys (kid,
// jwk, jku, x5c, x5u) are ignored: only configured keys are ever used.
std::optional<Method> accepted_method(const boost::json::object& header, bool hs256_enabled,
                                      const JwtPublicKey* public_key) {
    const auto* alg = header.if_contains("alg");
    if (!alg || !alg->is_string()) {
        return std::nullopt;
    }
    const std::string_view name(alg->get_string().data(), alg->get_string().size());
    if (hs256_enabled && name == "HS256") {
        return Method::hmac;
    }
    if (public_key && name == public_key->alg) {
        return Method::public_key;
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

// The server's room id grammar, [a-z0-9_-]{1,64}, so a grant can only name a room that could
// exist and its key is safe to show anywhere.
bool valid_room_id(std::string_view id) {
    if (id.empty() || id.size() > max_room_id_bytes) {
        return false;
    }
    for (const char c : id) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

// "rooms": {"room-id": "role", ...}. Like "role", any fault fails the whole token rather than
// dropping one grant: a mistyped claim means the issuer and the server disagree.
std::optional<std::map<std::string, Role>> read_room_grants(const boost::json::value& value) {
    if (!value.is_object() || value.get_object().size() > max_room_grants) {
        return std::nullopt;
    }
    std::map<std::string, Role> grants;
    for (const auto& entry : value.get_object()) {
        const std::string_view room(entry.key().data(), entry.key().size());
        const auto& role_value = entry.value();
        const auto role =
            role_value.is_string() ? role_from_string(role_value.get_string()) : std::nullopt;
        if (!valid_room_id(room) || !role) {
            return std::nullopt;
        }
        grants.insert_or_assign(std::string(room), *role);
    }
    return grants;
}

// RFC 7519 section 4.1.3: aud is one string or an array of strings.
bool names_audience(const boost::json::object& payload, std::string_view audience) {
    const auto* aud = payload.if_contains("aud");
    if (aud == nullptr) return false;
    if (aud->is_string()) return aud->get_string() == audience;
    if (!aud->is_array()) return false;
    const auto& names = aud->get_array();
    return std::any_of(names.begin(), names.end(), [&](const boost::json::value& name) {
        return name.is_string() && name.get_string() == audience;
    });
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
    if (const auto* rooms_value = payload.if_contains("rooms")) {
        auto grants = read_room_grants(*rooms_value);
        if (!grants) {
            return reject(TokenError::bad_role);
        }
        claims.room_roles = std::move(*grants);
    }

    if (!options.issuer.empty()) {
        const auto* iss = payload.if_contains("iss");
        if (!iss || !iss->is_string() || iss->get_string() != options.issuer) {
            return reject(TokenError::wrong_issuer);
        }
    }
    if (!options.audience.empty() && !names_audience(payload, options.audience)) {
        return reject(TokenError::wrong_audience);
    }
    return TokenResult{std::move(claims), TokenError::malformed};
}

TokenResult verify_token(std::string_view token, const JwtVerifierOptions& options,
                         const JwtPublicKey* public_key, std::int64_t now) {
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
    const auto header_text = base64url_decode(segments->header);
    const auto header = header_text ? parse_json_object(*header_text) : std::nullopt;
    if (!payload_text || !signature || !header) {
        return reject(TokenError::malformed);
    }
    if (has_duplicate_keys(*header_text)) {
        return reject(TokenError::duplicate_key);
    }
    if (const auto error = check_header(*header)) {
        return reject(*error);
    }
    const auto method = accepted_method(*header, !options.hs256_secret.empty(), public_key);
    if (!method) {
        return reject(TokenError::unsupported_alg);
    }
    const bool authentic =
        *method == Method::hmac
            ? signature_matches(options.hs256_secret, segments->signing_input, *signature)
            : public_key_signature_matches(*public_key, segments->signing_input, *signature);
    if (!authentic) {
        return reject(TokenError::bad_signature);
    }
    // Only authenticated bytes reach the JSON parser from here on.
    const auto payload = parse_json_object(*payload_text);
    if (!payload) {
        return reject(TokenError::malformed);
    }
    if (has_duplicate_keys(*payload_text)) {
        return reject(TokenError::duplicate_key);
    }
    return read_claims(*payload, options, now);
}

}  // namespace

JwtVerifier::JwtVerifier(JwtVerifierOptions options) : options_(std::move(options)) {
    if (!options_.public_key_pem.empty()) {
        LoadedKey loaded = load_public_key(options_.public_key_pem);
        if (!loaded.key) {
            throw std::invalid_argument("JWT public key: " + loaded.error);
        }
        public_key_ = std::move(loaded.key);
    }
}

bool JwtVerifier::enabled() const {
    return !options_.hs256_secret.empty() || public_key_ != nullptr;
}

std::string_view JwtVerifier::public_key_alg() const {
    return public_key_ ? public_key_->alg : std::string_view();
}

TokenResult JwtVerifier::verify(std::string_view token, std::int64_t now) const {
    // Parse errors come back as error codes, but allocation can still throw; a caller on the
    // connection path must get a rejection, never an exception.
    try {
        return verify_token(token, options_, public_key_.get(), now);
    } catch (...) {
        return reject(TokenError::malformed);
    }
}

std::optional<std::string> JwtVerifier::check_public_key(const std::string& pem) {
    try {
        LoadedKey loaded = load_public_key(pem);
        if (loaded.key) {
            return std::nullopt;
        }
        return std::move(loaded.error);
    } catch (const std::bad_alloc&) {
        return std::string("out of memory reading the public key");
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
        case TokenError::wrong_audience:
            return "wrong_audience";
        case TokenError::duplicate_key:
            return "duplicate_key";
    }
    return "malformed";
}

}  // namespace haven::auth
