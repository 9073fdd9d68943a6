// JwtVerifier and base64url. Tokens are built with the test token factory; time is passed in
// explicitly, so nothing here depends on the clock.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/base64url.hpp"
#include "auth/jwt.hpp"
#include "support/token_factory.hpp"

using haven::auth::base64url_decode;
using haven::auth::base64url_encode;
using haven::auth::JwtVerifier;
using haven::auth::JwtVerifierOptions;
using haven::auth::Role;
using haven::auth::TokenError;
using haven::auth::TokenResult;
using haven::test::make_hs256_token;
using haven::test::make_unsigned_token;

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
