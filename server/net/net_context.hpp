// What a shard's network sessions need from the rest of the server.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "http/admin_api.hpp"
#include "http/http_routes.hpp"
#include "net/write_batcher.hpp"
#include "rooms/hub.hpp"

namespace haven::net {

struct NetContext {
    rooms::Hub& hub;  // this shard's
    const http::HttpRoutes& routes;
    const http::AdminApi& admin;
    const config::Config& config;
    boost::asio::ssl::context* tls;  // null: plain ws:// and http://
    WriteBatcher& batcher;           // this shard's
};

}  // namespace haven::net
