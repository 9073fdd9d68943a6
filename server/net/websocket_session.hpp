// Hands an upgraded HTTP connection to a WebSocket session. Each stream type is compiled in
// its own translation unit (websocket_session_plain.cpp, websocket_session_tls.cpp) because
// the session's Asio and Beast templates are the slowest part of the build.
#pragma once

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/net_context.hpp"
#include "protocol/codec.hpp"

namespace haven::net {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using UpgradeResponse = boost::beast::http::response<boost::beast::http::empty_body>;
using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
// What a plain WebSocket session keeps of its PlainStream once the upgrade is answered: the
// bare socket, bound to its shard's io_context directly. (A type-erased executor, as in
// tcp::socket, is stored in the socket and in every pending operation: memory per idle
// connection.)
using PlainSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// The answer to a WebSocket upgrade request: 101 with the accept key (and `subprotocol` when
// not empty), 426 for a protocol version other than 13, 400 for a malformed key. Not a
// template, so it is compiled once rather than with each stream type's session.
UpgradeResponse upgrade_response(const Request& request, const std::string& subprotocol);

// `subprotocol` is echoed in the handshake response (empty: the client offered none).
// `early_bytes`: what was read past the upgrade request (frames the client sent at once).
// `address`: the connection's place in its client address's counts, kept while it lives.
void start_websocket_session(PlainStream stream, Request request, NetContext& context,
                             protocol::Encoding encoding, std::string subprotocol,
                             std::string early_bytes, core::AddressLimits::Lease address);
void start_websocket_session(TlsStream stream, Request request, NetContext& context,
                             protocol::Encoding encoding, std::string subprotocol,
                             std::string early_bytes, core::AddressLimits::Lease address);

}  // namespace haven::net
