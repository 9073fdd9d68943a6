#include "net/http_session.hpp"

#include <memory>
#include <optional>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "http/security_headers.hpp"
#include "net/upgrade_policy.hpp"
#include "net/websocket_session.hpp"

namespace haven::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::uint32_t kMaxRequestHeaderBytes = 8 * 1024;
constexpr std::uint32_t kMaxRequestBodyBytes = 8 * 1024;

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
public:
    template <class... Args>
    HttpSession(NetContext& context, core::AddressLimits::Lease address,
                boost::asio::ip::address peer, Args&&... stream_args)
        : stream_(std::forward<Args>(stream_args)...),
          context_(context),
          address_(std::move(address)),
          peer_(peer) {}

    void run() {
        if constexpr (std::is_same_v<Stream, TlsStream>) {
            arm_timeout();
            stream_.async_handshake(
                boost::asio::ssl::stream_base::server,
                beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
        } else {
            do_read();
        }
    }

private:
    void arm_timeout() {
        beast::get_lowest_layer(stream_).expires_after(
            std::chrono::milliseconds(context_.config.limits.handshake_timeout_ms));
    }

    void on_handshake(beast::error_code ec) {
        if (ec) return fail(ec, "tls handshake");
        do_read();
    }

    void do_read() {
        parser_.emplace();
        parser_->header_limit(kMaxRequestHeaderBytes);
        parser_->body_limit(kMaxRequestBodyBytes);
        // A client that never completes its request (or its upgrade) is dropped after this.
        arm_timeout();
        http::async_read(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream) return do_shutdown();
        if (ec) return fail(ec, "read");
        Request request = parser_->release();

        if (beast::websocket::is_upgrade(request)) return upgrade(std::move(request));

        const Shape shape{request.version(), request.keep_alive(),
                          request.method() == http::verb::head,
                          std::string(request[http::field::host])};
        if (haven::http::AdminApi::handles(request.target())) {
            // Answered from the broker, possibly on another shard: come back to this one.
            context_.admin.handle(
                request.method_string(), request.target(), request[http::field::authorization],
                request.body(),
                [self = this->shared_from_this(), shape](haven::http::HttpReply reply) {
                    boost::asio::post(
                        self->stream_.get_executor(),
                        [self, shape, reply = std::move(reply)] { self->respond(reply, shape); });
                });
            return;
        }
        respond(context_.routes.handle(request.method_string(), request.target(),
                                       request[http::field::authorization]),
                shape);
    }

    // What the response must match of its request.
    struct Shape {
        unsigned version;
        bool keep_alive;
        bool head;
        std::string host;  // names the WebSocket in the Content-Security-Policy
    };

    void respond(const haven::http::HttpReply& reply_data, const Shape& shape) {
        auto response = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(reply_data.status), shape.version);
        response->set(http::field::server, "haven");
        response->set(http::field::content_type, reply_data.content_type);
        for (const auto& [name, value] : reply_data.headers) response->set(name, value);
        add_security_headers(*response, shape.host);
        response->keep_alive(shape.keep_alive);
        if (shape.head) {
            response->content_length(reply_data.body.size());
        } else {
            response->body() = reply_data.body;
            response->prepare_payload();
        }
        write(std::move(response));
    }

    void upgrade(Request request) {
        const std::string_view host = request[http::field::host];
        const auto decision = check_upgrade(request.target(), request[http::field::origin],
                                            request[http::field::sec_websocket_protocol],
                                            context_.config.server.allowed_origins);
        if (const auto* refusal = std::get_if<UpgradeRefusal>(&decision)) {
            return refuse(static_cast<http::status>(refusal->status), std::string(refusal->body),
                          host);
        }
        const auto& choice = std::get<SubprotocolChoice>(decision);
        // Through a trusted proxy, the client is whom X-Forwarded-For names: the limits and
        // bans follow that address from here on.
        const Addressing& addressing = context_.addressing;
        address_.upgraded();
        if (addressing.proxies.contains(peer_)) {
            const boost::asio::ip::address client =
                client_address(peer_, request["X-Forwarded-For"], addressing.proxies);
            const core::Refusal refusal =
                addressing.limits.reattribute(address_, address_key(client, addressing.key_secret));
            if (refusal != core::Refusal::none) {
                context_.counters.refuse(refusal);
                return refuse(http::status::too_many_requests,
                              "too many connections from your address\n", host);
            }
        }
        // The WebSocket stream keeps its own timeouts from here on.
        beast::get_lowest_layer(stream_).expires_never();
        // A client may send its first frames in the same segment as the request: whatever
        // the HTTP reader took past the request belongs to the WebSocket reader.
        std::string early_bytes = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        start_websocket_session(std::move(stream_), std::move(request), context_, choice.encoding,
                                choice.name, std::move(early_bytes), std::move(address_));
    }

    void refuse(http::status status, std::string body, std::string_view host) {
        auto response = std::make_shared<http::response<http::string_body>>(status, 11);
        response->set(http::field::server, "haven");
        response->set(http::field::content_type, "text/plain; charset=utf-8");
        add_security_headers(*response, host);
        response->keep_alive(false);
        response->body() = std::move(body);
        response->prepare_payload();
        write(std::move(response));
    }

    void add_security_headers(http::response<http::string_body>& response, std::string_view host) {
        const haven::http::HeaderList headers = haven::http::security_headers(
            context_.config.tls, std::is_same_v<Stream, TlsStream>, host);
        for (const auto& [name, value] : headers) response.set(name, value);
    }

    void write(std::shared_ptr<http::response<http::string_body>> response) {
        arm_timeout();
        http::async_write(
            stream_, *response,
            [self = this->shared_from_this(), response](beast::error_code ec, std::size_t) {
                if (ec) return self->fail(ec, "write");
                if (!response->keep_alive()) return self->do_shutdown();
                self->do_read();
            });
    }

    void do_shutdown() {
        if constexpr (std::is_same_v<Stream, TlsStream>) {
            arm_timeout();
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
        } else {
            beast::error_code ignored;
            stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
        }
    }

    void fail(beast::error_code ec, const char* what) {
        // Timeouts, resets and truncated TLS are how idle or abrupt clients end: not news.
        if (ec == beast::error::timeout || ec == boost::asio::error::operation_aborted ||
            ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
            ec == boost::asio::ssl::error::stream_truncated) {
            spdlog::debug("http {}: {}", what, ec.message());
            return;
        }
        spdlog::debug("http {} failed: {}", what, ec.message());
    }

    Stream stream_;
    NetContext& context_;
    core::AddressLimits::Lease address_;  // handed to the WebSocket session at the upgrade
    boost::asio::ip::address peer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

void accept_connection(boost::asio::ip::tcp::socket socket, NetContext& context) {
    boost::system::error_code ec;
    const boost::asio::ip::address peer = socket.remote_endpoint(ec).address();
    if (ec) return;  // gone already
    const Addressing& addressing = context.addressing;
    core::AddressLimits::Lease address;
    // A trusted proxy carries many clients: they are counted once its request names them.
    if (!addressing.proxies.contains(peer)) {
        auto [refusal, lease] = addressing.limits.open(address_key(peer, addressing.key_secret));
        if (refusal != core::Refusal::none) {
            // Closed at once: an answer would cost what the limit is there to save.
            context.counters.refuse(refusal);
            socket.close(ec);
            return;
        }
        address = std::move(lease);
    }
    if (context.tls != nullptr) {
        std::make_shared<HttpSession<TlsStream>>(context, std::move(address), peer,
                                                 std::move(socket), *context.tls)
            ->run();
    } else {
        std::make_shared<HttpSession<PlainStream>>(context, std::move(address), peer,
                                                   std::move(socket))
            ->run();
    }
}

}  // namespace haven::net
