// Builds compact JWTs for tests, including deliberately bad ones the verifier must refuse.
#pragma once

#include <memory>
#include <string>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace haven::test {

// header_json and payload_json are encoded exactly as given, so tests can put anything in them.
std::string make_hs256_token(const std::string& payload_json, const std::string& secret,
                             const std::string& header_json = R"({"alg":"HS256","typ":"JWT"})");

// An "alg":"none" token with an empty signature segment ("header.payload.").
std::string make_unsigned_token(const std::string& payload_json);

// A freshly generated key pair. Generation and export failures throw std::runtime_error.
class TestKeyPair {
public:
    static TestKeyPair ed25519();
    static TestKeyPair ed448();
    static TestKeyPair rsa(unsigned bits = 2048);
    static TestKeyPair ec_p256();
    // `base`'s RSA modulus with another public exponent; public part only (no private_pem, no
    // signing). For tests of keys a verifier must refuse.
    static TestKeyPair rsa_public_with_exponent(const TestKeyPair& base, unsigned long exponent);

    // SubjectPublicKeyInfo, "-----BEGIN PUBLIC KEY-----": what a verifier is configured with.
    std::string public_pem() const;
    // PKCS#8, "-----BEGIN PRIVATE KEY-----": for tests of misconfiguration only.
    std::string private_pem() const;
    evp_pkey_st* get() const { return key_.get(); }

private:
    struct Free {
        void operator()(evp_pkey_st* key) const;
    };
    explicit TestKeyPair(evp_pkey_st* key) : key_(key) {}
    std::unique_ptr<evp_pkey_st, Free> key_;
};

// EdDSA (Ed25519) and RS256 (RSASSA-PKCS1-v1_5, SHA-256) tokens. The key must be of the
// matching type (std::invalid_argument otherwise); the header is encoded exactly as given.
std::string make_eddsa_token(const std::string& payload_json, const TestKeyPair& private_key,
                             const std::string& header_json = R"({"alg":"EdDSA","typ":"JWT"})");
std::string make_rs256_token(const std::string& payload_json, const TestKeyPair& private_key,
                             const std::string& header_json = R"({"alg":"RS256","typ":"JWT"})");

}  // namespace haven::test
