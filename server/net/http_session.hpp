// An accepted TCP connection's first life: TLS handshake when configured, then HTTP requests
// until one of them upgrades to a WebSocket at /ws. The listener counts each connection
// against its client address (core::AddressLimits) and refuses those over the limits.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "net/net_context.hpp"

namespace haven::net {

// Counts the connection against its address, or closes it when a limit refuses it.
void accept_connection(boost::asio::ip::tcp::socket socket, NetContext& context);

}  // namespace haven::net
