#include "http/outbound_http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace haven::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

template <class Stream>
std::optional<OutboundResponse> exchange(Stream& stream, const OutboundRequest& request,
                                         const std::string& host, const std::string& target,
                                         std::string& error) {
    bhttp::request<bhttp::string_body> message{
        request.method == "POST" ? bhttp::verb::post : bhttp::verb::get, target, 11};
    message.set(bhttp::field::host, host);
    message.set(bhttp::field::user_agent, request.user_agent);
    if (!request.bearer.empty()) {
        message.set(bhttp::field::authorization, "Bearer " + request.bearer);
    }
    for (const auto& [name, value] : request.headers) message.set(name, value);
    if (request.method == "POST") {
        message.set(bhttp::field::content_type, "application/json");
        message.body() = request.body;
    }
    message.prepare_payload();
    beast::error_code ec;
    bhttp::write(stream, message, ec);
    if (ec) {
        error = "cannot send the request: " + ec.message();
        return std::nullopt;
    }
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream, buffer, response, ec);
    if (ec) {
        error = "no answer: " + ec.message();
        return std::nullopt;
    }
    return OutboundResponse{response.result_int(), std::move(response.body())};
}

}  // namespace

std::optional<OutboundResponse> send_http_request(const OutboundRequest& request,
                                                  std::string& error) {
    const auto url = boost::urls::parse_absolute_uri(request.url);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
        error = "the url must be http://host[:port] or https://host[:port]";
        return std::nullopt;
    }
    std::string target = request.target;
    if (target.empty()) target = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
    const bool tls = url->scheme() == "https";
    const std::string host = url->host();
    const std::string port = url->has_port() ? std::string(url->port()) : (tls ? "443" : "80");

    asio::io_context io;
    beast::error_code ec;
    asio::ip::tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(host, port, ec);
    if (ec) {
        error = "cannot resolve " + host + ": " + ec.message();
        return std::nullopt;
    }
    beast::tcp_stream tcp(io);
    tcp.expires_after(request.timeout);
    tcp.connect(endpoints, ec);
    if (ec) {
        error = "cannot connect to " + request.url + ": " + ec.message();
        return std::nullopt;
    }
    if (!tls) return exchange(tcp, request, host, target, error);

    asio::ssl::context context(asio::ssl::context::tls_client);
    context.set_default_verify_paths();
    context.set_verify_mode(request.verify_certificate ? asio::ssl::verify_peer
                                                       : asio::ssl::verify_none);
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), context);
    if (request.verify_certificate) {
        stream.set_verify_callback(asio::ssl::host_name_verification(host));
    }
    SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (ec) {
        error = "TLS handshake with " + request.url + " failed: " + ec.message();
        return std::nullopt;
    }
    return exchange(stream, request, host, target, error);
}

}  // namespace haven::http
