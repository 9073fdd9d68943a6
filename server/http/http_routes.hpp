// Plain HTTP endpoints, free of any transport: health, readiness, metrics, the room list and
// the web client's static files. net/ turns requests into calls here and replies into bytes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "http/static_files.hpp"
#include "rooms/room_directory.hpp"

namespace haven::http {

struct HttpReply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

class HttpRoutes {
public:
    // Why the instance should not get new traffic now ("draining", "broker unavailable"),
    // or nothing when it is ready. Called from any shard.
    using Readiness = std::function<std::optional<std::string>()>;

    // Static files from a folder already resolved (see StaticFiles).
    HttpRoutes(const config::Config& config, const rooms::RoomDirectory& directory,
               const core::Metrics& metrics, Readiness readiness, StaticFiles static_files);
    // Resolves config.server.static_dir itself; throws like StaticFiles does.
    HttpRoutes(const config::Config& config, const rooms::RoomDirectory& directory,
               const core::Metrics& metrics, Readiness readiness);

    // `target` is the request target as sent (path and optional query); `authorization` the
    // request's Authorization header (empty when absent), which /metrics checks against
    // server.metrics_token when that is set.
    HttpReply handle(std::string_view method, std::string_view target,
                     std::string_view authorization = {}) const;

private:
    HttpReply metrics(std::string_view authorization) const;
    HttpReply rooms_json() const;
    HttpReply static_file(std::string_view path) const;

    const config::Config& config_;
    const rooms::RoomDirectory& directory_;
    const core::Metrics& metrics_;
    Readiness readiness_;
    StaticFiles static_files_;
    // HMAC of server.metrics_token, made once so that a check compares fixed-size digests in
    // constant time and takes no time that depends on the token; nothing: /metrics is open.
    std::optional<std::string> metrics_token_digest_;
};

}  // namespace haven::http
