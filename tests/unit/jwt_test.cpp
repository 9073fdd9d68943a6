// JwtVerifier and base64url. Tokens are built with the test token factory; time is passed in
// explicitly, so nothing here depends on the clock.
// Over 400 lines: each algorithm's good and bad tokens, case by case.
#include <doctest/doctest.h>

#include <set>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>

#include "auth/base64url.hpp"
#include "auth/hs256.hpp"
#include "auth/jwt.hpp"
#include "auth/token_minting.hpp"
#include "support/token_factory.hpp"

using haven::auth::base64url_decode;
using haven::auth::base64url_encode;
using haven::auth::JwtVerifier;
using haven::auth::JwtVerifierOptions;
using haven::auth::Role;
using haven::auth::TokenError;
using haven::auth::TokenResult;
using haven::test::make_eddsa_token;
using haven::test::make_hs256_token;
using haven::test::make_rs256_token;
using haven::test::make_unsigned_token;
using haven::test::TestKeyPair;

namespace {

const std::string secret = "test-secret-0123456789abcdef0123456789abcdef";
constexpr std::int64_t now = 1'700'000'000;
constexpr std::int64_t leeway = 30;
const std::string exp_in_an_hour = std::to_string(now + 3600);

JwtVerifier make_verifier(const std::string& issuer = "") {
    return JwtVerifier(JwtVerifierOptions{secret, issuer, leeway});
}

// A payload with the required claims plus `extra` (a JSON fragment such as ,"role":"x").
std::string payload(const std::string& extra = "") {
    return R"({"sub":"u-123","name":"river","exp":)" + exp_in_an_hour + extra + "}";
}

// "accepted" or the error's name, so a failed CHECK prints words rather than enum integers.
std::string outcome(const TokenResult& result) {
    return result.claims ? "accepted" : std::string(haven::auth::to_string(result.error));
}

std::string verify(const std::string& token, std::int64_t at = now) {
    return outcome(make_verifier().verify(token, at));
}

std::string role_of(const TokenResult& result) {
    return result.claims ? std::string(haven::auth::to_string(result.claims->role)) : "rejected";
}

// Key generation costs milliseconds (RSA the most), so each key is made once per test run.
const TestKeyPair& ed_key() {
    static const auto key = TestKeyPair::ed25519();
    return key;
}
const TestKeyPair& other_ed_key() {
    static const auto key = TestKeyPair::ed25519();
    return key;
}
const TestKeyPair& rsa_key() {
    static const auto key = TestKeyPair::rsa(2048);
    return key;
}
const TestKeyPair& other_rsa_key() {
    static const auto key = TestKeyPair::rsa(2048);
    return key;
}

JwtVerifier key_verifier(const TestKeyPair& key, const std::string& hs256_secret = "") {
    return JwtVerifier(JwtVerifierOptions{hs256_secret, "", leeway, key.public_pem()});
}

// The signing input with the payload replaced and the original signature kept.
std::string with_payload(const std::string& token, const std::string& new_payload) {
    const auto first_dot = token.find('.');
    const auto second_dot = token.find('.', first_dot + 1);
    return token.substr(0, first_dot + 1) + base64url_encode(new_payload) +
           token.substr(second_dot);
}

// check_public_key's verdict: "ok" or its message.
std::string key_check(const std::string& pem) {
    return JwtVerifier::check_public_key(pem).value_or("ok");
}

}  // namespace

TEST_SUITE_BEGIN("jwt");

TEST_CASE("a valid token yields its claims") {
    const auto token = make_hs256_token(payload(R"(,"role":"moderator")"), secret);
    const auto result = make_verifier().verify(token, now);
    REQUIRE(result.claims.has_value());
    CHECK(result.claims->subject == "u-123");
    CHECK(result.claims->handle == "river");
    CHECK(role_of(result) == "moderator");
    CHECK(result.claims->expires_at == now + 3600);
}

TEST_CASE("role defaults to participant when absent") {
    const auto result = make_verifier().verify(make_hs256_token(payload(), secret), now);
    CHECK(role_of(result) == "participant");
}

TEST_CASE("every role name is accepted") {
    for (const std::string name : {"participant", "peer_supporter", "moderator", "operator"}) {
        CAPTURE(name);
        const auto token = make_hs256_token(payload(R"(,"role":")" + name + "\""), secret);
        CHECK(role_of(make_verifier().verify(token, now)) == name);
    }
}

TEST_CASE("unknown or mistyped roles are rejected") {
    for (const std::string role : {R"("admin")", R"("Moderator")", R"("")", "1", "null"}) {
        CAPTURE(role);
        CHECK(verify(make_hs256_token(payload(R"(,"role":)" + role), secret)) == "bad_role");
    }
}

TEST_CASE("expiry honours the leeway") {
    const auto token = make_hs256_token(payload(), secret);
    const std::int64_t exp = now + 3600;
    CHECK(verify(token, exp) == "accepted");
    CHECK(verify(token, exp + 10) == "accepted");
    CHECK(verify(token, exp + leeway) == "accepted");
    CHECK(verify(token, exp + leeway + 1) == "expired");
    CHECK(verify(token, exp + 86400) == "expired");
}

TEST_CASE("extreme exp values do not wrap around") {
    const auto far =
        make_hs256_token(R"({"sub":"u","name":"n","exp":9223372036854775807})", secret);
    CHECK(verify(far) == "accepted");
    const auto past =
        make_hs256_token(R"({"sub":"u","name":"n","exp":-9223372036854775808})", secret);
    CHECK(verify(past) == "expired");
}

TEST_CASE("nbf in the future is rejected beyond the leeway") {
    const auto soon = make_hs256_token(payload(",\"nbf\":" + std::to_string(now + 10)), secret);
    CHECK(verify(soon) == "accepted");
    const auto later = make_hs256_token(payload(",\"nbf\":" + std::to_string(now + 60)), secret);
    CHECK(verify(later) == "not_yet_valid");
    const auto mistyped = make_hs256_token(payload(R"(,"nbf":"soon")"), secret);
    CHECK(verify(mistyped) == "missing_claim");
}

TEST_CASE("a token signed with another secret is rejected") {
    CHECK(verify(make_hs256_token(payload(), "some-other-secret")) == "bad_signature");
}

TEST_CASE("a tampered payload is rejected") {
    const auto token = make_hs256_token(payload(), secret);
    const auto first_dot = token.find('.');
    const auto second_dot = token.find('.', first_dot + 1);
    const auto forged = token.substr(0, first_dot + 1) +
                        base64url_encode(payload(R"(,"role":"operator")")) +
                        token.substr(second_dot);
    CHECK(verify(forged) == "bad_signature");
}

TEST_CASE("a signature that is not 32 bytes is rejected") {
    const auto token = make_hs256_token(payload(), secret);
    const auto signing_input = token.substr(0, token.rfind('.') + 1);
    const auto mac = base64url_decode(token.substr(token.rfind('.') + 1));
    REQUIRE(mac.has_value());
    REQUIRE(mac->size() == 32);
    CHECK(verify(signing_input + base64url_encode(mac->substr(0, 31))) == "bad_signature");
    CHECK(verify(signing_input + base64url_encode(*mac + '\0')) == "bad_signature");
    CHECK(verify(signing_input) == "bad_signature");  // empty signature
}

TEST_CASE("alg none is always rejected") {
    CHECK(verify(make_unsigned_token(payload())) == "unsupported_alg");
    for (const std::string alg : {"none", "None", "NONE", "nOnE"}) {
        CAPTURE(alg);
        const auto header = R"({"alg":")" + alg + R"(","typ":"JWT"})";
        CHECK(verify(make_hs256_token(payload(), secret, header)) == "unsupported_alg");
    }
}

TEST_CASE("algorithms other than HS256 are rejected") {
    for (const std::string header :
         {R"({"alg":"HS512"})", R"({"alg":"RS256"})", R"({"alg":"hs256"})", R"({"alg":"HS256 "})",
          R"({})", R"({"alg":256})"}) {
        CAPTURE(header);
        CHECK(verify(make_hs256_token(payload(), secret, header)) == "unsupported_alg");
    }
}

TEST_CASE("HS256 with an empty secret is disabled") {
    const JwtVerifier disabled(JwtVerifierOptions{"", "", leeway});
    CHECK_FALSE(disabled.enabled());
    CHECK(make_verifier().enabled());
    CHECK(outcome(disabled.verify(make_hs256_token(payload(), secret), now)) == "unsupported_alg");
    CHECK(outcome(disabled.verify(make_hs256_token(payload(), ""), now)) == "unsupported_alg");
}

TEST_CASE("typ, when present, must be JWT") {
    CHECK(verify(make_hs256_token(payload(), secret, R"({"alg":"HS256"})")) == "accepted");
    CHECK(verify(make_hs256_token(payload(), secret, R"({"alg":"HS256","typ":"jwt"})")) ==
          "accepted");
    CHECK(verify(make_hs256_token(payload(), secret, R"({"alg":"HS256","typ":"JWE"})")) ==
          "malformed");
    CHECK(verify(make_hs256_token(payload(), secret, R"({"alg":"HS256","typ":1})")) == "malformed");
}

TEST_CASE("critical header extensions are refused") {
    const auto header = R"({"alg":"HS256","crit":["exp"],"exp":1})";
    CHECK(verify(make_hs256_token(payload(), secret, header)) == "malformed");
}

TEST_CASE("required claims must be present, typed and sized") {
    const std::string exp = R"("exp":)" + exp_in_an_hour;
    for (const std::string& body : std::vector<std::string>{
             R"({"name":"river",)" + exp + "}",             // no sub
             R"({"sub":"u-123",)" + exp + "}",              // no name
             R"({"sub":"u-123","name":"river"})",           // no exp
             R"({"sub":"","name":"river",)" + exp + "}",    // empty sub
             R"({"sub":"u-123","name":"",)" + exp + "}",    // empty name
             R"({"sub":42,"name":"river",)" + exp + "}",    // sub not a string
             R"({"sub":"u-123","name":null,)" + exp + "}",  // name not a string
             R"({"sub":"u-123","name":"river","exp":")" + exp_in_an_hour + "\"}",  // exp string
             R"({"sub":"u-123","name":"river","exp":1800000000.0})",               // exp fractional
             R"({"sub":"u-123","name":"river","exp":true})",                       // exp boolean
             R"({"sub":"u-123","name":"river","exp":18446744073709551615})",       // beyond int64
             R"({"sub":")" + std::string(129, 's') + R"(","name":"river",)" + exp + "}",
             R"({"sub":"u-123","name":")" + std::string(65, 'n') + R"(",)" + exp + "}",
         }) {
        CAPTURE(body);
        CHECK(verify(make_hs256_token(body, secret)) == "missing_claim");
    }
}

TEST_CASE("claims at their size limits are accepted") {
    const auto body = R"({"sub":")" + std::string(128, 's') + R"(","name":")" +
                      std::string(64, 'n') + R"(","exp":)" + exp_in_an_hour + "}";
    const auto result = make_verifier().verify(make_hs256_token(body, secret), now);
    REQUIRE(result.claims.has_value());
    CHECK(result.claims->subject.size() == 128);
    CHECK(result.claims->handle.size() == 64);
}

TEST_CASE("malformed tokens") {
    const auto token = make_hs256_token(payload(), secret);
    const auto header = token.substr(0, token.find('.'));

    CHECK(verify("") == "malformed");
    CHECK(verify("..") == "malformed");
    CHECK(verify(token.substr(0, token.rfind('.'))) == "malformed");  // two parts
    CHECK(verify(token + ".AAAA") == "malformed");                    // four parts
    CHECK(verify(token + ".") == "malformed");                        // empty fourth part
    CHECK(verify("!" + token.substr(1)) == "malformed");              // bad base64 in header
    CHECK(verify(header + ".e30=." + token.substr(token.rfind('.') + 1)) == "malformed");
    CHECK(verify(token + "=") == "malformed");  // padded signature

    const auto not_json = base64url_encode("{alg: HS256}") + token.substr(token.find('.'));
    CHECK(verify(not_json) == "malformed");
    const auto array_header = base64url_encode(R"(["HS256"])") + token.substr(token.find('.'));
    CHECK(verify(array_header) == "malformed");

    // Correctly signed, but the payload is not a JSON object.
    CHECK(verify(make_hs256_token("not json", secret)) == "malformed");
    CHECK(verify(make_hs256_token("[1,2,3]", secret)) == "malformed");
}

TEST_CASE("deeply nested JSON is rejected without throwing") {
    const auto nested = std::string(2000, '[') + std::string(2000, ']');
    const auto token = make_hs256_token(payload(R"(,"x":)" + nested), secret);
    REQUIRE(token.size() <= haven::auth::max_token_bytes);
    std::string result;
    CHECK_NOTHROW(result = verify(token));
    CHECK(result == "malformed");
}

TEST_CASE("tokens longer than the cap are malformed even when correctly signed") {
    // Grow the payload one byte at a time across the cap: the verdict must flip exactly there.
    int accepted = 0;
    int rejected = 0;
    for (std::size_t pad = 5950; pad < 6100; ++pad) {
        const auto token =
            make_hs256_token(payload(R"(,"pad":")" + std::string(pad, 'p') + "\""), secret);
        if (token.size() <= haven::auth::max_token_bytes) {
            CHECK(verify(token) == "accepted");
            ++accepted;
        } else {
            CHECK(verify(token) == "malformed");
            ++rejected;
        }
    }
    CHECK(accepted > 0);
    CHECK(rejected > 0);
    CHECK(verify(make_hs256_token(payload(R"(,"pad":")" + std::string(100'000, 'p') + "\""),
                                  secret)) == "malformed");
}

TEST_CASE("issuer is checked only when configured") {
    const auto ours = make_hs256_token(payload(R"(,"iss":"https://id.example")"), secret);
    const auto theirs = make_hs256_token(payload(R"(,"iss":"https://evil.example")"), secret);
    const auto none = make_hs256_token(payload(), secret);
    const auto mistyped = make_hs256_token(payload(R"(,"iss":["https://id.example"])"), secret);

    const auto checking = make_verifier("https://id.example");
    CHECK(outcome(checking.verify(ours, now)) == "accepted");
    CHECK(outcome(checking.verify(theirs, now)) == "wrong_issuer");
    CHECK(outcome(checking.verify(none, now)) == "wrong_issuer");
    CHECK(outcome(checking.verify(mistyped, now)) == "wrong_issuer");

    CHECK(verify(theirs) == "accepted");
    CHECK(verify(none) == "accepted");
}

TEST_CASE("audience is checked only when configured, as a string or in an array") {
    const JwtVerifier checking(JwtVerifierOptions{secret, "", leeway, "", "haven-chat"});
    const auto named = make_hs256_token(payload(R"(,"aud":"haven-chat")"), secret);
    const auto among = make_hs256_token(payload(R"(,"aud":["billing","haven-chat"])"), secret);
    const auto other = make_hs256_token(payload(R"(,"aud":"billing")"), secret);
    const auto others = make_hs256_token(payload(R"(,"aud":["billing",7])"), secret);
    const auto none = make_hs256_token(payload(), secret);
    const auto mistyped = make_hs256_token(payload(R"(,"aud":{"haven-chat":true})"), secret);

    CHECK(outcome(checking.verify(named, now)) == "accepted");
    CHECK(outcome(checking.verify(among, now)) == "accepted");
    CHECK(outcome(checking.verify(other, now)) == "wrong_audience");
    CHECK(outcome(checking.verify(others, now)) == "wrong_audience");
    CHECK(outcome(checking.verify(none, now)) == "wrong_audience");
    CHECK(outcome(checking.verify(mistyped, now)) == "wrong_audience");

    CHECK(verify(other) == "accepted");
    CHECK(verify(none) == "accepted");
}

TEST_CASE("a claim or header member named twice refuses the token") {
    // Another parser could read the first "role" where Boost.JSON keeps the last.
    const auto twice_role =
        make_hs256_token(R"({"sub":"u-1","name":"river","exp":)" + exp_in_an_hour +
                             R"(,"role":"participant","role":"operator"})",
                         secret);
    CHECK(verify(twice_role) == "duplicate_key");
    // The same name once escaped is still the same name.
    const auto escaped = make_hs256_token(
        R"({"sub":"u-1","name":"river","exp":)" + exp_in_an_hour + R"(,"\u0073ub":"u-2"})", secret);
    CHECK(verify(escaped) == "duplicate_key");
    // Nested objects are checked too; the same name in two different objects is fine.
    CHECK(verify(make_hs256_token(payload(R"(,"rooms":{"a":"moderator","a":"participant"})"),
                                  secret)) == "duplicate_key");
    CHECK(verify(make_hs256_token(payload(R"(,"rooms":{"sub":"moderator"})"), secret)) ==
          "accepted");
    CHECK(verify(make_hs256_token(payload(), secret, R"({"alg":"HS256","alg":"none"})")) ==
          "duplicate_key");
    CHECK(haven::auth::to_string(TokenError::duplicate_key) == "duplicate_key");
}

TEST_CASE("role and error names") {
    for (const Role role :
         {Role::participant, Role::peer_supporter, Role::moderator, Role::operator_}) {
        const auto parsed = haven::auth::role_from_string(haven::auth::to_string(role));
        REQUIRE(parsed.has_value());
        CHECK(*parsed == role);
    }
    CHECK(haven::auth::to_string(Role::operator_) == "operator");
    CHECK_FALSE(haven::auth::role_from_string("operator_").has_value());
    CHECK_FALSE(haven::auth::role_from_string("").has_value());
    CHECK(haven::auth::to_string(TokenError::unsupported_alg) == "unsupported_alg");
    CHECK(haven::auth::to_string(TokenError::wrong_issuer) == "wrong_issuer");
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("jwt public keys");

TEST_CASE("a valid EdDSA token yields its claims") {
    const auto verifier = key_verifier(ed_key());
    CHECK(verifier.enabled());
    CHECK(verifier.public_key_alg() == "EdDSA");
    const auto token = make_eddsa_token(payload(R"(,"role":"peer_supporter")"), ed_key());
    const auto result = verifier.verify(token, now);
    REQUIRE(result.claims.has_value());
    CHECK(result.claims->subject == "u-123");
    CHECK(result.claims->handle == "river");
    CHECK(role_of(result) == "peer_supporter");
    CHECK(result.claims->expires_at == now + 3600);
    CHECK(outcome(verifier.verify(token, now + 3600 + leeway + 1)) == "expired");
}

TEST_CASE("a valid RS256 token yields its claims") {
    const auto verifier = key_verifier(rsa_key());
    CHECK(verifier.enabled());
    CHECK(verifier.public_key_alg() == "RS256");
    const auto token = make_rs256_token(payload(R"(,"role":"moderator")"), rsa_key());
    const auto result = verifier.verify(token, now);
    REQUIRE(result.claims.has_value());
    CHECK(result.claims->subject == "u-123");
    CHECK(result.claims->handle == "river");
    CHECK(role_of(result) == "moderator");
    CHECK(outcome(verifier.verify(token, now + 3600 + leeway + 1)) == "expired");
}

TEST_CASE("issuer is checked for public-key tokens too") {
    const JwtVerifier verifier(
        JwtVerifierOptions{"", "https://id.example", leeway, ed_key().public_pem()});
    const auto ours = make_eddsa_token(payload(R"(,"iss":"https://id.example")"), ed_key());
    CHECK(outcome(verifier.verify(ours, now)) == "accepted");
    CHECK(outcome(verifier.verify(make_eddsa_token(payload(), ed_key()), now)) == "wrong_issuer");
}

TEST_CASE("a token signed with another key is rejected") {
    CHECK(outcome(key_verifier(ed_key()).verify(make_eddsa_token(payload(), other_ed_key()),
                                                now)) == "bad_signature");
    CHECK(outcome(key_verifier(rsa_key()).verify(make_rs256_token(payload(), other_rsa_key()),
                                                 now)) == "bad_signature");
}

TEST_CASE("a tampered public-key token is rejected") {
    const auto ed = key_verifier(ed_key());
    const auto rsa = key_verifier(rsa_key());
    const auto forged_role = payload(R"(,"role":"operator")");
    CHECK(outcome(ed.verify(with_payload(make_eddsa_token(payload(), ed_key()), forged_role),
                            now)) == "bad_signature");
    CHECK(outcome(rsa.verify(with_payload(make_rs256_token(payload(), rsa_key()), forged_role),
                             now)) == "bad_signature");

    // A different header is a different signing input, even when it still names the right alg.
    const auto ed_token = make_eddsa_token(payload(), ed_key());
    const auto ed_reheadered =
        base64url_encode(R"({"alg":"EdDSA"})") + ed_token.substr(ed_token.find('.'));
    CHECK(outcome(ed.verify(ed_reheadered, now)) == "bad_signature");

    // Flipping one bit anywhere in the signature.
    for (const auto& [token, verifier] :
         {std::pair{ed_token, &ed}, std::pair{make_rs256_token(payload(), rsa_key()), &rsa}}) {
        const auto signing_input = token.substr(0, token.rfind('.') + 1);
        auto signature = *base64url_decode(token.substr(token.rfind('.') + 1));
        for (const std::size_t at : {std::size_t{0}, signature.size() / 2, signature.size() - 1}) {
            CAPTURE(at);
            auto flipped = signature;
            flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
            CHECK(outcome(verifier->verify(signing_input + base64url_encode(flipped), now)) ==
                  "bad_signature");
        }
        // Wrong lengths, including empty.
        CHECK(outcome(verifier->verify(signing_input, now)) == "bad_signature");
        CHECK(outcome(verifier->verify(signing_input + base64url_encode(signature.substr(1)),
                                       now)) == "bad_signature");
        CHECK(outcome(verifier->verify(signing_input + base64url_encode(signature + '\0'), now)) ==
              "bad_signature");
    }
}

TEST_CASE("the key decides the algorithm, not the token") {
    const auto ed = key_verifier(ed_key());
    const auto rsa = key_verifier(rsa_key());
    const auto ed_token = make_eddsa_token(payload(), ed_key());
    const auto rsa_token = make_rs256_token(payload(), rsa_key());
    CHECK(outcome(rsa.verify(ed_token, now)) == "unsupported_alg");
    CHECK(outcome(ed.verify(rsa_token, now)) == "unsupported_alg");

    // A header naming the key's algorithm over another scheme's signature is just a bad one.
    CHECK(outcome(rsa.verify(make_eddsa_token(payload(), ed_key(), R"({"alg":"RS256"})"), now)) ==
          "bad_signature");
    CHECK(outcome(ed.verify(make_rs256_token(payload(), rsa_key(), R"({"alg":"EdDSA"})"), now)) ==
          "bad_signature");

    for (const std::string header :
         {R"({"alg":"none"})", R"({"alg":"HS256"})", R"({"alg":"RS384"})", R"({"alg":"RS512"})",
          R"({"alg":"PS256"})", R"({"alg":"ES256"})", R"({"alg":"Ed25519"})", R"({"alg":"eddsa"})",
          R"({"alg":"rs256"})", R"({"alg":"EdDSA "})", R"({})", R"({"alg":null})"}) {
        CAPTURE(header);
        CHECK(outcome(ed.verify(make_eddsa_token(payload(), ed_key(), header), now)) ==
              "unsupported_alg");
        CHECK(outcome(rsa.verify(make_rs256_token(payload(), rsa_key(), header), now)) ==
              "unsupported_alg");
    }
    CHECK(outcome(ed.verify(make_unsigned_token(payload()), now)) == "unsupported_alg");

    // Without a public key, public-key algorithms are not accepted at all.
    CHECK(verify(ed_token) == "unsupported_alg");
    CHECK(verify(rsa_token) == "unsupported_alg");
    CHECK(make_verifier().public_key_alg().empty());
}

TEST_CASE("alg confusion: the public key is never an HMAC secret") {
    for (const TestKeyPair* key : {&ed_key(), &rsa_key()}) {
        const auto pem = key->public_pem();
        const auto key_only = key_verifier(*key);
        // Everything an attacker might feed HMAC: the PEM text as configured, and trimmed.
        for (const std::string& fake_secret :
             {pem, pem.substr(0, pem.size() - 1), std::string(pem.substr(pem.find('\n') + 1))}) {
            const auto forged = make_hs256_token(payload(R"(,"role":"operator")"), fake_secret);
            CHECK(outcome(key_only.verify(forged, now)) == "unsupported_alg");
            // With HS256 also configured, HMAC uses the HS256 secret and nothing else.
            CHECK(outcome(key_verifier(*key, secret).verify(forged, now)) == "bad_signature");
        }
    }
}

TEST_CASE("HS256 and a public key can be configured together") {
    const auto both = key_verifier(ed_key(), secret);
    CHECK(both.enabled());
    CHECK(outcome(both.verify(make_hs256_token(payload(), secret), now)) == "accepted");
    CHECK(outcome(both.verify(make_eddsa_token(payload(), ed_key()), now)) == "accepted");
    CHECK(outcome(both.verify(make_rs256_token(payload(), rsa_key()), now)) == "unsupported_alg");
    // Without the secret, HS256 is off even though the verifier is enabled.
    CHECK(outcome(key_verifier(ed_key()).verify(make_hs256_token(payload(), secret), now)) ==
          "unsupported_alg");
}

TEST_CASE("keys offered inside the token are ignored") {
    const TestKeyPair attacker = TestKeyPair::ed25519();
    const auto pem = attacker.public_pem();
    for (const std::string header : {R"({"alg":"EdDSA","kid":"attacker"})",
                                     R"({"alg":"EdDSA","jku":"https://evil.example/jwks"})",
                                     R"({"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519"}})"}) {
        CAPTURE(header);
        CHECK(outcome(key_verifier(ed_key()).verify(
                  make_eddsa_token(payload(R"(,"role":"operator")"), attacker, header), now)) ==
              "bad_signature");
    }
}

TEST_CASE("check_public_key accepts Ed25519 and RSA public keys") {
    CHECK(key_check(ed_key().public_pem()) == "ok");
    CHECK(key_check(rsa_key().public_pem()) == "ok");
    CHECK(key_check("\n\n" + ed_key().public_pem() + "\n\n") == "ok");  // blank lines around
    CHECK(key_check(TestKeyPair::rsa(3072).public_pem()) == "ok");
    // The same modulus with the ordinary exponent: the helper below builds keys correctly.
    CHECK(key_check(TestKeyPair::rsa_public_with_exponent(rsa_key(), 65537).public_pem()) == "ok");
}

TEST_CASE("check_public_key refuses unusable keys with one clear line") {
    const auto ed_pem = ed_key().public_pem();
    CHECK(key_check("") == "not a PEM public key");
    CHECK(key_check("garbage") == "not a PEM public key");
    CHECK(key_check("-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n") ==
          "not a PEM public key");
    // Cut off before its END line.
    CHECK(key_check(ed_pem.substr(0, ed_pem.find("-----END"))) == "not a PEM public key");
    // A well-formed PEM block holding something that is not a SubjectPublicKeyInfo.
    CHECK(key_check("-----BEGIN PUBLIC KEY-----\n" + base64url_encode("hello, world") +
                    "\n-----END PUBLIC KEY-----\n")
              .starts_with("not a PEM public key"));

    CHECK(key_check(TestKeyPair::rsa(1024).public_pem()) ==
          "RSA key shorter than 2048 bits (1024)");
    CHECK(key_check(TestKeyPair::rsa(2047).public_pem()) ==
          "RSA key shorter than 2048 bits (2047)");
    CHECK(key_check(TestKeyPair::ec_p256().public_pem()).starts_with("unsupported key type EC"));
    CHECK(key_check(TestKeyPair::ed448().public_pem()).starts_with("unsupported key type ED448"));
    CHECK(key_check(ed_pem + rsa_key().public_pem()).starts_with("more than one PEM block"));

    // e = 1 makes RSA signatures forgeable by anyone; an even exponent is not RSA at all.
    CHECK(key_check(TestKeyPair::rsa_public_with_exponent(rsa_key(), 1).public_pem())
              .starts_with("RSA public key is invalid"));
    CHECK(key_check(TestKeyPair::rsa_public_with_exponent(rsa_key(), 65536).public_pem())
              .starts_with("RSA public key is invalid"));

    // The private key is refused, and the message does not quote it.
    const auto private_pem = ed_key().private_pem();
    const auto message = key_check(private_pem);
    CHECK(message.starts_with("a private key"));
    const auto body = private_pem.substr(private_pem.find('\n') + 1, 20);
    CHECK(message.find(body) == std::string::npos);

    const std::string certificate =
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    CHECK(key_check(certificate) ==
          R"(not a PEM public key: found a "CERTIFICATE" block, need "PUBLIC KEY")");
}

TEST_CASE("the constructor refuses a key check_public_key refuses") {
    for (const std::string& pem :
         {std::string("garbage"), TestKeyPair::rsa(1024).public_pem(), ed_key().private_pem()}) {
        CHECK_THROWS_AS(JwtVerifier(JwtVerifierOptions{secret, "", leeway, pem}),
                        std::invalid_argument);
    }
}

TEST_CASE("failed verification leaves nothing on OpenSSL's error queue") {
    const auto rsa = key_verifier(rsa_key());
    ERR_clear_error();
    CHECK(outcome(rsa.verify(make_rs256_token(payload(), other_rsa_key()), now)) ==
          "bad_signature");
    CHECK(ERR_peek_error() == 0);
    CHECK(key_check("garbage") != "ok");
    CHECK(key_check(TestKeyPair::rsa_public_with_exponent(rsa_key(), 1).public_pem()) != "ok");
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("one verifier serves several threads at once") {
    const auto ed = key_verifier(ed_key());
    const auto rsa = key_verifier(rsa_key());
    const auto ed_good = make_eddsa_token(payload(), ed_key());
    const auto ed_bad = make_eddsa_token(payload(), other_ed_key());
    const auto rsa_good = make_rs256_token(payload(), rsa_key());
    const auto rsa_bad = make_rs256_token(payload(), other_rsa_key());
    const auto rsa_copy = rsa;  // copies share the key

    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                const bool right = outcome(ed.verify(ed_good, now)) == "accepted" &&
                                   outcome(ed.verify(ed_bad, now)) == "bad_signature" &&
                                   outcome(rsa.verify(rsa_good, now)) == "accepted" &&
                                   outcome(rsa_copy.verify(rsa_bad, now)) == "bad_signature";
                if (!right) ++wrong;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(wrong.load() == 0);
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("jwt room grants");

TEST_CASE("room grants are parsed") {
    const auto token = make_eddsa_token(
        payload(R"(,"rooms":{"evening-circle":"peer_supporter","lobby":"moderator"})"), ed_key());
    const auto result = key_verifier(ed_key()).verify(token, now);
    REQUIRE(result.claims.has_value());
    CHECK(role_of(result) == "participant");
    const std::map<std::string, Role> expected{{"evening-circle", Role::peer_supporter},
                                               {"lobby", Role::moderator}};
    CHECK(result.claims->room_roles == expected);
}

TEST_CASE("room grants are empty when absent or empty") {
    const auto absent = make_verifier().verify(make_hs256_token(payload(), secret), now);
    REQUIRE(absent.claims.has_value());
    CHECK(absent.claims->room_roles.empty());
    const auto empty =
        make_verifier().verify(make_hs256_token(payload(R"(,"rooms":{})"), secret), now);
    REQUIRE(empty.claims.has_value());
    CHECK(empty.claims->room_roles.empty());
}

TEST_CASE("every role name is accepted in a room grant") {
    for (const std::string name : {"participant", "peer_supporter", "moderator", "operator"}) {
        CAPTURE(name);
        const auto token = make_hs256_token(payload(R"(,"rooms":{"r":")" + name + R"("})"), secret);
        const auto result = make_verifier().verify(token, now);
        REQUIRE(result.claims.has_value());
        REQUIRE(result.claims->room_roles.count("r") == 1);
        CHECK(haven::auth::to_string(result.claims->room_roles.at("r")) == name);
    }
}

TEST_CASE("bad room grants reject the token as bad_role") {
    for (const std::string rooms : {
             R"({"lobby":"admin"})",                      // unknown role
             R"({"lobby":"Moderator"})",                  // role names are exact
             R"({"lobby":"moderator","quiet":"owner"})",  // one bad grant spoils all
             R"({"lobby":1})",                            // role not a string
             R"({"lobby":null})",                         //
             R"({"lobby":["moderator"]})",                //
             R"({"":"moderator"})",                       // empty room id
             R"({"Lobby":"moderator"})",                  // outside [a-z0-9_-]
             R"({"lobby ":"moderator"})",                 //
             R"({"lob.by":"moderator"})",                 //
             R"(["lobby","moderator"])",                  // not an object
             R"("lobby")",                                //
             R"(null)",                                   //
             R"(true)",                                   //
         }) {
        CAPTURE(rooms);
        CHECK(verify(make_hs256_token(payload(R"(,"rooms":)" + rooms), secret)) == "bad_role");
    }
}

TEST_CASE("room grant limits: ids up to 64 bytes, up to 256 grants") {
    const auto grant = [](const std::string& id) { return "\"" + id + R"(":"moderator")"; };
    CHECK(verify(make_hs256_token(payload(R"(,"rooms":{)" + grant(std::string(64, 'r')) + "}"),
                                  secret)) == "accepted");
    CHECK(verify(make_hs256_token(payload(R"(,"rooms":{)" + grant(std::string(65, 'r')) + "}"),
                                  secret)) == "bad_role");

    const auto grants = [&](int count) {
        std::string rooms = "{";
        for (int i = 0; i < count; ++i) {
            rooms += (i ? "," : "") + grant("r" + std::to_string(i));
        }
        return rooms + "}";
    };
    const auto at_cap = make_hs256_token(payload(R"(,"rooms":)" + grants(256)), secret);
    const auto over_cap = make_hs256_token(payload(R"(,"rooms":)" + grants(257)), secret);
    REQUIRE(over_cap.size() <= haven::auth::max_token_bytes);
    const auto result = make_verifier().verify(at_cap, now);
    REQUIRE(result.claims.has_value());
    CHECK(result.claims->room_roles.size() == 256);
    CHECK(verify(over_cap) == "bad_role");
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("base64url");

TEST_CASE("RFC 4648 test vectors, without padding") {
    CHECK(base64url_encode("") == "");
    CHECK(base64url_encode("f") == "Zg");
    CHECK(base64url_encode("fo") == "Zm8");
    CHECK(base64url_encode("foo") == "Zm9v");
    CHECK(base64url_encode("foobar") == "Zm9vYmFy");
    CHECK(base64url_encode("\xfb\xff") == "-_8");
    CHECK(base64url_decode("Zm9vYg") == std::optional<std::string>("foob"));
}

TEST_CASE("every byte value round-trips at every length remainder") {
    std::string all;
    for (int b = 0; b < 256; ++b) {
        all.push_back(static_cast<char>(b));
    }
    for (std::size_t extra = 0; extra < 3; ++extra) {
        const auto bytes = all + all.substr(0, extra);
        CAPTURE(extra);
        const auto encoded = base64url_encode(bytes);
        CHECK(encoded.find_first_of("+/=") == std::string::npos);
        CHECK(base64url_decode(encoded) == std::optional<std::string>(bytes));
    }
}

TEST_CASE("padding and the standard alphabet are rejected") {
    CHECK_FALSE(base64url_decode("Zg==").has_value());
    CHECK_FALSE(base64url_decode("Zm8=").has_value());
    CHECK_FALSE(base64url_decode("+_8").has_value());
    CHECK_FALSE(base64url_decode("-/8").has_value());
    CHECK_FALSE(base64url_decode("Zm9v Yg").has_value());
    CHECK_FALSE(base64url_decode(std::string("Zm\0v", 4)).has_value());
}

TEST_CASE("impossible lengths and non-zero leftover bits are rejected") {
    CHECK_FALSE(base64url_decode("Z").has_value());
    CHECK_FALSE(base64url_decode("Zm9vY").has_value());
    CHECK_FALSE(base64url_decode("Zh").has_value());   // "Zg" with a stray low bit
    CHECK_FALSE(base64url_decode("Zm9").has_value());  // "Zm8" with a stray low bit
    CHECK(base64url_decode("").has_value());
}

TEST_SUITE_END();

TEST_CASE("HMAC-SHA256 matches RFC 4231, with the same key again and with many keys") {
    auto hex = [](const std::optional<std::string>& bytes) {
        static const char digits[] = "0123456789abcdef";
        std::string out;
        for (unsigned char c : bytes.value_or("")) {
            out += digits[c >> 4];
            out += digits[c & 15];
        }
        return out;
    };
    // RFC 4231 test cases 1 and 2.
    const std::string key1(20, '\x0b');
    const std::string expected1 =
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    const std::string expected2 =
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    for (int round = 0; round < 3; ++round) {  // the second and third use the kept context
        CHECK(hex(haven::auth::hmac_sha256(key1, "Hi There")) == expected1);
        CHECK(hex(haven::auth::hmac_sha256("Jefe", "what do ya want for nothing?")) == expected2);
    }
    // An empty key (the well-known MAC of nothing under nothing).
    CHECK(hex(haven::auth::hmac_sha256("", "")) ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    // More keys than contexts are kept: every one still gives the right MAC.
    std::set<std::string> macs;
    for (int i = 0; i < 20; ++i)
        macs.insert(hex(haven::auth::hmac_sha256("key " + std::to_string(i), "data")));
    CHECK(macs.size() == 20);
    CHECK(hex(haven::auth::hmac_sha256(key1, "Hi There")) == expected1);
    CHECK(hex(haven::auth::hmac_sha256("key 3", "data")) ==
          hex(haven::auth::hmac_sha256("key 3", "data")));
}

TEST_CASE("jwt: a token minted by haven-admin is verified with every claim it was given") {
    const std::string secret = "a-secret-for-minting-tokens-0123456789";
    haven::auth::TokenRequest request;
    request.subject = "ana-1";
    request.name = "Ana";
    request.room_roles = {{"lobby", haven::auth::Role::moderator}};
    request.expires_at = 1'700'003'600;
    request.issuer = "https://id.example.org";
    request.audience = "haven";
    const std::string token = haven::auth::mint_hs256_token(request, secret);

    const haven::auth::JwtVerifier verifier({secret, "https://id.example.org", 30, "", "haven"});
    const haven::auth::TokenResult result = verifier.verify(token, 1'700'000'000);
    REQUIRE(result.claims.has_value());
    CHECK(result.claims->subject == "ana-1");
    CHECK(result.claims->handle == "Ana");
    CHECK(result.claims->role == haven::auth::Role::participant);
    CHECK(result.claims->room_roles == request.room_roles);
    CHECK(result.claims->expires_at == 1'700'003'600);
    // Another server's secret or audience refuses it.
    const haven::auth::JwtVerifier other({"another-secret-for-minting-0123456789", "", 30});
    CHECK_FALSE(other.verify(token, 1'700'000'000).claims.has_value());
    const haven::auth::JwtVerifier elsewhere({secret, "", 30, "", "other-service"});
    CHECK(elsewhere.verify(token, 1'700'000'000).error == haven::auth::TokenError::wrong_audience);
}
