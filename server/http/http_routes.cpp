#include "http/http_routes.hpp"

#include <optional>

#include <openssl/crypto.h>
#include <boost/json.hpp>

#include "auth/hs256.hpp"

namespace haven::http {
namespace {

std::string_view content_type_for(std::string_view path) {
    struct Mapping {
        std::string_view extension;
        std::string_view type;
    };
    static constexpr Mapping kTypes[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    for (const auto& mapping : kTypes) {
        if (path.size() >= mapping.extension.size() &&
            path.substr(path.size() - mapping.extension.size()) == mapping.extension) {
            return mapping.type;
        }
    }
    return "application/octet-stream";
}

HttpReply text_reply(unsigned status, std::string body) {
    HttpReply reply;
    reply.status = status;
    reply.body = std::move(body);
    return reply;
}

// Tokens are compared by their HMACs under this fixed key: equal tokens, equal digests.
constexpr std::string_view kTokenDigestKey = "haven metrics token";

std::string token_digest(std::string_view token) {
    return auth::hmac_sha256(kTokenDigestKey, token).value_or(std::string());
}

// "Bearer <token>" (the scheme is case-insensitive, RFC 9110 11.1), or nothing.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
    constexpr std::string_view kScheme = "bearer ";
    if (authorization.size() <= kScheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        const char c = authorization[i];
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if (lower != kScheme[i]) return std::nullopt;
    }
    return authorization.substr(kScheme.size());
}

constexpr std::string_view kNoClientPage =
    "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Haven</title>"
    "<body><main><h1>Haven is running</h1><p>The web client has not been built. The "
    "WebSocket endpoint is <code>/ws</code>.</p></main></body></html>";

}  // namespace

HttpRoutes::HttpRoutes(const config::Config& config, const rooms::RoomDirectory& directory,
                       const core::Metrics& metrics, Readiness readiness, StaticFiles static_files)
    : config_(config),
      directory_(directory),
      metrics_(metrics),
      readiness_(std::move(readiness)),
      static_files_(std::move(static_files)),
      metrics_token_digest_(config.server.metrics_token.empty()
                                ? std::nullopt
                                : std::optional(token_digest(config.server.metrics_token))) {}

HttpRoutes::HttpRoutes(const config::Config& config, const rooms::RoomDirectory& directory,
                       const core::Metrics& metrics, Readiness readiness)
    : HttpRoutes(config, directory, metrics, std::move(readiness), StaticFiles(config.server)) {}

HttpReply HttpRoutes::handle(std::string_view method, std::string_view target,
                             std::string_view authorization) const {
    if (method != "GET" && method != "HEAD") {
        HttpReply reply = text_reply(405, "method not allowed\n");
        reply.headers.emplace_back("Allow", "GET, HEAD");
        return reply;
    }
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/healthz") return text_reply(200, "ok\n");
    if (path == "/readyz") {
        if (auto reason = readiness_()) return text_reply(503, *reason + "\n");
        return text_reply(200, "ready\n");
    }
    if (path == "/metrics") return metrics(authorization);
    if (path == "/api/rooms") return rooms_json();
    return static_file(target);
}

HttpReply HttpRoutes::metrics(std::string_view authorization) const {
    if (metrics_token_digest_) {
        const std::optional<std::string_view> token = bearer_token(authorization);
        const std::string presented = token ? token_digest(*token) : std::string();
        // Both digests full length, or nobody gets in (fails closed if OpenSSL ever refused).
        const bool same =
            presented.size() == auth::kSha256Bytes &&
            metrics_token_digest_->size() == auth::kSha256Bytes &&
            CRYPTO_memcmp(presented.data(), metrics_token_digest_->data(), auth::kSha256Bytes) == 0;
        if (!same) {
            HttpReply reply = text_reply(401, "a metrics token is required\n");
            reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"metrics\"");
            reply.headers.emplace_back("Cache-Control", "no-store");
            return reply;
        }
    }
    std::string body = metrics_.render();
    // What /readyz says, as a gauge an alert rule can watch (broker unreachable, draining).
    const std::optional<std::string> unready = readiness_();
    body +=
        "# HELP haven_ready Whether this instance should get traffic (1), as /readyz says.\n"
        "# TYPE haven_ready gauge\nhaven_ready ";
    body += unready ? "0\n" : "1\n";
    body +=
        "# HELP haven_broker_up Whether the broker (Redis, or the embedded one) takes requests.\n"
        "# TYPE haven_broker_up gauge\nhaven_broker_up ";
    body += unready && *unready == "broker unavailable" ? "0\n" : "1\n";
    HttpReply reply = text_reply(200, std::move(body));
    reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
}

HttpReply HttpRoutes::rooms_json() const {
    boost::json::array rooms;
    for (const config::RoomConfig& room : directory_.all()) {
        rooms.push_back({{"id", room.id},
                         {"title", room.title},
                         {"topic", room.topic},
                         {"kind", config::to_string(room.kind)},
                         {"capacity", room.capacity},
                         {"signInRequired", !room.guests},
                         {"memberCount", directory_.member_count(room.id)}});
    }
    HttpReply reply;
    reply.content_type = "application/json";
    reply.body = boost::json::serialize(boost::json::object{{"rooms", std::move(rooms)}});
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
}

HttpReply HttpRoutes::static_file(std::string_view target) const {
    const auto path = safe_static_path(target);
    if (!path) return text_reply(400, "bad path\n");
    // No folder configured: nothing is served from disk, not even the built-in page.
    if (!static_files_.configured()) return text_reply(404, "not found\n");
    StaticFiles::Result file = static_files_.read(*path);
    if (file.outcome != StaticFiles::Outcome::found) {
        if (*path == "/index.html" && file.outcome == StaticFiles::Outcome::not_found) {
            HttpReply reply;
            reply.content_type = "text/html; charset=utf-8";
            reply.body = std::string(kNoClientPage);
            return reply;
        }
        // Too large is "not found" as well: a client learns nothing about what is on disk.
        return text_reply(404, "not found\n");
    }
    HttpReply reply;
    reply.content_type = std::string(content_type_for(*path));
    reply.body = std::move(file.body);
    // Built assets carry content hashes in their names; index.html must always be fresh.
    reply.headers.emplace_back("Cache-Control",
                               *path == "/index.html" ? "no-cache" : "public, max-age=3600");
    return reply;
}

}  // namespace haven::http
