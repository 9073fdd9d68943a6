#include "app/startup_checks.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/ip/address.hpp>

#include "auth/jwt.hpp"
#include "broker/redis/redis_connection.hpp"

namespace haven::app {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
    throw std::runtime_error(key + ": " + what);
}

std::string read_public_key(const std::string& path) {
    if (path.empty()) return {};
    std::ifstream file(path);
    if (!file) fail("auth.jwt_public_key_file", "cannot read " + path);
    std::ostringstream pem;
    pem << file.rdbuf();
    if (auto problem = auth::JwtVerifier::check_public_key(pem.str())) {
        fail("auth.jwt_public_key_file", path + ": " + *problem);
    }
    return pem.str();
}

std::unique_ptr<moderation::CrisisDetector> load_crisis_detector(
    const config::ModerationConfig& moderation) {
    if (moderation.crisis_dir.empty()) return nullptr;
    try {
        auto lists = moderation::load_crisis_lists(moderation.crisis_dir);
        if (lists.empty()) {
            throw std::runtime_error("no phrase lists (*.toml) in " + moderation.crisis_dir);
        }
        return std::make_unique<moderation::CrisisDetector>(std::move(lists));
    } catch (const std::exception& error) {
        fail("moderation.crisis_dir", error.what());  // names the folder or the file
    }
}

// Sets the TLS 1.2 suites and checks that each one it selects is ECDHE key exchange with an
// AEAD cipher (forward secrecy, no CBC), so a list cannot quietly bring back RSA key exchange
// or CBC-SHA1. OpenSSL skips names it does not know as long as one other name matches, so each
// name is tried on its own first: a typo is an error, not a silently shorter list.
using ScratchContext = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

ScratchContext scratch_context() {
    ScratchContext context(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    if (!context) fail("tls.ciphers", "OpenSSL cannot make a TLS context");
    return context;
}

void set_tls12_ciphers(SSL_CTX* context, const std::string& ciphers) {
    constexpr const char* kKey = "tls.ciphers";
    const ScratchContext scratch = scratch_context();
    std::size_t start = 0;
    while (start <= ciphers.size()) {
        const std::size_t end = std::min(ciphers.find(':', start), ciphers.size());
        const std::string name = ciphers.substr(start, end - start);
        start = end + 1;
        // Exclusions (!X, -X), moves (+X) and commands (@STRENGTH) select nothing themselves.
        if (name.empty() || std::string_view("!-+@").find(name.front()) != std::string::npos) {
            continue;
        }
        if (SSL_CTX_set_cipher_list(scratch.get(), name.c_str()) != 1) {
            fail(kKey, "\"" + name + "\" selects no cipher OpenSSL can offer");
        }
    }
    ERR_clear_error();
    if (SSL_CTX_set_cipher_list(context, ciphers.c_str()) != 1) {
        ERR_clear_error();
        fail(kKey, "selects no cipher OpenSSL can offer (got \"" + ciphers + "\")");
    }
    int tls12_suites = 0;
    const STACK_OF(SSL_CIPHER)* selected = SSL_CTX_get_ciphers(context);
    for (int i = 0; i < sk_SSL_CIPHER_num(selected); ++i) {
        const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(selected, i);
        if (SSL_CIPHER_get_kx_nid(cipher) == NID_kx_any) continue;  // a TLS 1.3 suite
        ++tls12_suites;
        if (SSL_CIPHER_get_kx_nid(cipher) != NID_kx_ecdhe || SSL_CIPHER_is_aead(cipher) != 1 ||
            SSL_CIPHER_get_auth_nid(cipher) == NID_auth_null) {
            fail(kKey, std::string("selects ") + SSL_CIPHER_get_name(cipher) +
                           ", which is not ECDHE key exchange with an AEAD cipher");
        }
    }
    if (tls12_suites == 0) fail(kKey, "selects no TLS 1.2 suite (got \"" + ciphers + "\")");
}

// Checked whether TLS is on or not: a list that would stop the start should not wait to
// surface until the day a certificate is configured.
void check_tls_ciphers(const config::TlsConfig& tls) {
    const ScratchContext context = scratch_context();
    set_tls12_ciphers(context.get(), tls.ciphers);
}

std::unique_ptr<asio::ssl::context> make_tls_context(const config::TlsConfig& tls) {
    if (!tls.enabled()) return nullptr;
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
    SSL_CTX* native = context->native_handle();
    // TLS 1.2 at least, whatever the OpenSSL configuration of the machine allows, and no
    // renegotiation (a cheap way for one client to make the server do handshakes).
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
    set_tls12_ciphers(native, tls.ciphers);
    boost::system::error_code ec;
    context->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) fail("tls.cert", "cannot use " + tls.cert_file + ": " + ec.message());
    // OpenSSL also checks here that the key belongs to the certificate.
    context->use_private_key_file(tls.key_file, asio::ssl::context::pem, ec);
    if (ec) fail("tls.key", "cannot use " + tls.key_file + ": " + ec.message());
    return context;
}

// The memory broker appends to the audit file and reads it back at start, creating its folder
// when missing (moderation/audit_file). Checked without creating anything: the file, when it
// exists, must be a readable and writable regular file; otherwise the nearest folder that
// exists on its path must be writable.
void check_audit_file(const config::Config& config) {
    const std::string& path = config.moderation.audit_file;
    if (path.empty() || config.broker.kind != "memory") return;
    constexpr const char* kKey = "moderation.audit_file";
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (fs::exists(status)) {
        if (!fs::is_regular_file(status)) fail(kKey, path + " is not a regular file");
        if (::access(path.c_str(), R_OK | W_OK) != 0) {
            fail(kKey, "cannot write " + path + ": " + std::strerror(errno));
        }
        // The start narrows a file open to others to its owner (moderation/audit_file), which
        // only the owner (or root) may do.
        struct stat file {};
        if (::stat(path.c_str(), &file) == 0 && (file.st_mode & (S_IRWXG | S_IRWXO)) != 0 &&
            ::geteuid() != 0 && file.st_uid != ::geteuid()) {
            fail(kKey, path +
                           " is open to others and owned by another user, so it cannot be "
                           "made readable by its owner only");
        }
        return;
    }
    fs::path folder = fs::path(path).parent_path();
    while (!folder.empty() && !fs::exists(fs::symlink_status(folder, ec))) {
        folder = folder.parent_path();
    }
    if (folder.empty()) folder = ".";
    if (!fs::is_directory(folder, ec)) {
        fail(kKey, "cannot create " + path + ": " + folder.string() + " is not a folder");
    }
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        fail(kKey,
             "cannot create " + path + " in " + folder.string() + ": " + std::strerror(errno));
    }
}

void check_listen_address(const config::ServerConfig& server) {
    boost::system::error_code ec;
    asio::ip::make_address(server.address, ec);
    if (ec)
        fail("server.address", "must be an IP address to listen on (got " + server.address + ")");
}

void check_redis_url(const config::BrokerConfig& broker) {
    if (broker.kind != "redis") return;
    // The URL can carry a password: never echo it.
    if (!broker::redis::parse_redis_url(broker.redis_url))
        fail("broker.redis_url", "cannot parse it");
}

}  // namespace

StartupResources load_startup_resources(const config::Config& config) {
    check_listen_address(config.server);
    check_redis_url(config.broker);
    check_audit_file(config);
    check_tls_ciphers(config.tls);
    StartupResources resources;
    resources.jwt_public_key = read_public_key(config.auth.jwt_public_key_file);
    resources.crisis = load_crisis_detector(config.moderation);
    resources.tls = make_tls_context(config.tls);
    resources.static_files = http::StaticFiles(config.server);
    if (const auto& warning = resources.static_files.warning()) {
        resources.warnings.push_back(*warning);
    }
    return resources;
}

}  // namespace haven::app
