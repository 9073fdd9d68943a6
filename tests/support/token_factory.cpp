#include "support/token_factory.hpp"

#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/base64url.hpp"
#include "auth/hs256.hpp"

namespace haven::test {

using auth::base64url_encode;

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("token_factory: " + what);
}

template <typename Write>
std::string to_pem(Write write) {
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || write(bio.get()) != 1) fail("PEM export failed");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    if (size <= 0 || data == nullptr) fail("PEM export produced nothing");
    return std::string(data, static_cast<std::size_t>(size));
}

// `header.payload.signature`, signed with the key's own scheme: Ed25519 (no digest, one shot)
// or RSA PKCS#1 v1.5 with SHA-256.
std::string sign_asymmetric(const std::string& header_json, const std::string& payload_json,
                            EVP_PKEY* key, bool rsa) {
    const std::string signing_input =
        base64url_encode(header_json) + "." + base64url_encode(payload_json);
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                          &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pkey_context = nullptr;
    if (!context || EVP_DigestSignInit(context.get(), &pkey_context, rsa ? EVP_sha256() : nullptr,
                                       nullptr, key) != 1) {
        fail("EVP_DigestSignInit failed");
    }
    if (rsa && EVP_PKEY_CTX_set_rsa_padding(pkey_context, RSA_PKCS1_PADDING) != 1) {
        fail("setting PKCS#1 v1.5 padding failed");
    }
    const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
    std::size_t size = 0;
    if (EVP_DigestSign(context.get(), nullptr, &size, input, signing_input.size()) != 1) {
        fail("EVP_DigestSign (size) failed");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                       input, signing_input.size()) != 1) {
        fail("EVP_DigestSign failed");
    }
    signature.resize(size);
    return signing_input + "." + base64url_encode(signature);
}

}  // namespace

std::string make_hs256_token(const std::string& payload_json, const std::string& secret,
                             const std::string& header_json) {
    return auth::sign_hs256(header_json, payload_json, secret);
}

std::string make_unsigned_token(const std::string& payload_json) {
    return base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
           base64url_encode(payload_json) + ".";
}

void TestKeyPair::Free::operator()(evp_pkey_st* key) const {
    EVP_PKEY_free(key);
}

TestKeyPair TestKeyPair::ed25519() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (key == nullptr) fail("Ed25519 key generation failed");
    return TestKeyPair(key);
}

TestKeyPair TestKeyPair::ed448() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448");
    if (key == nullptr) fail("Ed448 key generation failed");
    return TestKeyPair(key);
}

TestKeyPair TestKeyPair::rsa(unsigned bits) {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
    if (key == nullptr) fail("RSA key generation failed");
    return TestKeyPair(key);
}

TestKeyPair TestKeyPair::ec_p256() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (key == nullptr) fail("P-256 key generation failed");
    return TestKeyPair(key);
}

TestKeyPair TestKeyPair::rsa_public_with_exponent(const TestKeyPair& base, unsigned long exponent) {
    BIGNUM* n_raw = nullptr;
    if (EVP_PKEY_get_bn_param(base.get(), OSSL_PKEY_PARAM_RSA_N, &n_raw) != 1) {
        fail("the base key has no RSA modulus");
    }
    const std::unique_ptr<BIGNUM, decltype(&BN_free)> n(n_raw, &BN_free);
    const std::unique_ptr<BIGNUM, decltype(&BN_free)> e(BN_new(), &BN_free);
    const std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(
        OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
    if (!e || !builder || BN_set_word(e.get(), exponent) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        fail("building RSA parameters failed");
    }
    const std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
        OSSL_PARAM_BLD_to_param(builder.get()), &OSSL_PARAM_free);
    const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), &EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        fail("EVP_PKEY_fromdata failed");
    }
    return TestKeyPair(key);
}

std::string TestKeyPair::public_pem() const {
    return to_pem([this](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key_.get()); });
}

std::string TestKeyPair::private_pem() const {
    return to_pem([this](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
}

std::string make_eddsa_token(const std::string& payload_json, const TestKeyPair& private_key,
                             const std::string& header_json) {
    if (!EVP_PKEY_is_a(private_key.get(), "ED25519")) {
        throw std::invalid_argument("make_eddsa_token needs an Ed25519 key");
    }
    return sign_asymmetric(header_json, payload_json, private_key.get(), false);
}

std::string make_rs256_token(const std::string& payload_json, const TestKeyPair& private_key,
                             const std::string& header_json) {
    if (!EVP_PKEY_is_a(private_key.get(), "RSA")) {
        throw std::invalid_argument("make_rs256_token needs an RSA key");
    }
    return sign_asymmetric(header_json, payload_json, private_key.get(), true);
}

}  // namespace haven::test
