// What a shard's network sessions need from the rest of the server.
#pragma once

#include <cstdint>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "core/address_limits.hpp"
#include "core/metrics.hpp"
#include "http/admin_api.hpp"
#include "http/http_routes.hpp"
#include "net/client_address.hpp"
#include "net/write_batcher.hpp"
#include "session/client_session.hpp"

namespace haven::net {

// Buffers a shard's connections share, each used only within one handler.
struct IoScratch {
    // Where plain connections read to: one buffer for all of them, since a read is handled
    // before the next one starts.
    std::vector<std::uint8_t> read_buffer = std::vector<std::uint8_t>(64 * 1024);
    // The buffer list of a write made and finished at once (plain connections' usual write).
    std::vector<boost::asio::const_buffer> gather;
};

// Who connections come from, for every shard: the per-address limits, the proxies whose
// X-Forwarded-For is believed, and the key addresses are hashed with.
struct Addressing {
    core::AddressLimits& limits;
    TrustedProxies proxies;
    std::string key_secret;
};

struct NetContext {
    session::ChatServices chat;     // this shard's
    core::ShardCounters& counters;  // this shard's
    const http::HttpRoutes& routes;
    const http::AdminApi& admin;
    const config::Config& config;
    boost::asio::ssl::context* tls;  // null: plain ws:// and http://
    WriteBatcher& batcher;           // this shard's
    const Addressing& addressing;    // shared
    IoScratch scratch;               // this shard's
};

}  // namespace haven::net
