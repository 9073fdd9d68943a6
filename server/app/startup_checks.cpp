#include "app/startup_checks.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

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

std::unique_ptr<asio::ssl::context> make_tls_context(const config::TlsConfig& tls) {
    if (!tls.enabled()) return nullptr;
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
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
