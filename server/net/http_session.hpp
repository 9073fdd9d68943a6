// An accepted TCP connection's first life: TLS handshake when configured, then HTTP requests
// until one of them upgrades to a WebSocket at /ws.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "net/net_context.hpp"

namespace haven::net {

void start_http_session(boost::asio::ip::tcp::socket socket, NetContext& context);

}  // namespace haven::net
