// A blocking WebSocket client for tests (plain and TLS, both encodings). Over 400 lines: the
// handshake, framing and waits with deadlines that every integration test uses.
#include "support/ws_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace haven::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// Larger than any frame a Haven server may send (its max_frame_bytes is at most 16 MiB).
constexpr std::uint64_t kMaxIncomingMessage = 64ull * 1024 * 1024;
constexpr std::size_t kWriteBufferBytes = 1024 * 1024;
// After the socket is closed, pending operations finish at once; this only bounds a bug.
constexpr Millis kDrainLimit = 1s;

std::unique_ptr<ssl::context> make_client_tls() {
    auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
    // Test servers use throwaway self-signed certificates.
    context->set_verify_mode(ssl::verify_none);
    return context;
}

// Runs `io` until `done()` holds or the deadline passes; false on timeout or out of work.
template <class Done>
bool run_until(asio::io_context& io, Done done, Clock::time_point deadline) {
    while (!done()) {
        const auto now = Clock::now();
        if (now >= deadline) return false;
        io.restart();
        if (io.run_one_for(deadline - now) == 0 && !done() && io.stopped() &&
            Clock::now() < deadline) {
            // Returned early without running anything: no work left, nothing will change.
            return done();
        }
    }
    return true;
}

}  // namespace

// ---- WsClient ------------------------------------------------------------------------------

struct WsClient::Impl {
    asio::io_context io;
    std::unique_ptr<ssl::context> tls_context;
    std::unique_ptr<PlainWs> plain;
    std::unique_ptr<TlsWs> tls;

    protocol::Encoding encoding = protocol::Encoding::binary;
    std::string subprotocol;
    bool open = false;
    bool ended = false;  // the connection is over (observed)
    std::optional<std::uint16_t> close_code;
    std::string last_error;

    // The one non-read operation in flight (connect, handshake, write, close).
    bool op_done = true;
    beast::error_code op_ec;
    std::string write_buffer;

    // The read in flight; it stays pending across receive() timeouts.
    bool read_pending = false;
    bool read_ready = false;  // a completed read waits to be collected
    beast::error_code read_ec;
    beast::flat_buffer read_buffer;
    bool read_text = false;

    std::vector<v1::ServerMessage> skipped;

    ~Impl() { drop(); }

    template <class F>
    decltype(auto) with_ws(F&& f) {
        if (tls) return f(*tls);
        return f(*plain);
    }

    bool has_stream() const { return plain || tls; }

    beast::tcp_stream& lowest() {
        if (tls) return beast::get_lowest_layer(*tls);
        return beast::get_lowest_layer(*plain);
    }

    // Closes the socket and lets every pending handler finish, so none outlives its state.
    void drop() {
        if (!has_stream()) return;
        beast::error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
        const auto deadline = Clock::now() + kDrainLimit;
        run_until(
            io, [&] { return op_done && !read_pending; }, deadline);
        open = false;
        ended = true;
    }

    bool wait_op(Clock::time_point deadline, const char* what) {
        if (run_until(
                io, [&] { return op_done; }, deadline)) {
            if (!op_ec) return true;
            last_error = std::string(what) + ": " + op_ec.message();
            return false;
        }
        last_error = std::string(what) + ": timed out";
        drop();
        return false;
    }

    void start_read() {
        read_pending = true;
        read_ready = false;
        with_ws([&](auto& ws) {
            ws.async_read(read_buffer, [this](beast::error_code ec, std::size_t) {
                read_pending = false;
                read_ready = true;
                read_ec = ec;
                read_text = with_ws([](auto& s) { return s.got_text(); });
            });
        });
    }

    // Collects a completed read. Returns a frame, or nothing when the connection ended.
    std::optional<Frame> collect() {
        read_ready = false;
        if (read_ec) {
            ended = true;
            open = false;
            // The close frame may have arrived even when the read ends with another error: a
            // server that closes with unread data in its socket resets the connection, and
            // Beast then reports the failed teardown instead of `closed`.
            const std::uint16_t code = with_ws([](auto& ws) { return ws.reason().code; });
            if (code != websocket::close_code::none) close_code = code;
            if (read_ec == websocket::error::closed) {
                last_error = "closed by server with code " + std::to_string(code);
            } else {
                last_error = "connection ended: " + read_ec.message();
                if (close_code)
                    last_error +=
                        " (after a close frame with code " + std::to_string(*close_code) + ")";
            }
            return std::nullopt;
        }
        Frame frame{beast::buffers_to_string(read_buffer.data()), read_text};
        read_buffer.consume(read_buffer.size());
        return frame;
    }

    std::optional<Frame> receive_frame(Millis timeout) {
        const auto deadline = Clock::now() + timeout;
        if (read_ready) return collect();
        if (ended || !has_stream()) return std::nullopt;
        if (!read_pending) start_read();
        if (!run_until(
                io, [&] { return !read_pending; }, deadline)) {
            if (read_pending) {
                last_error = "receive: timed out";
                return std::nullopt;
            }
        }
        return collect();
    }

    bool write(std::string_view bytes, bool text, Millis timeout) {
        if (ended || !has_stream()) {
            last_error = "send: not connected";
            return false;
        }
        write_buffer.assign(bytes.data(), bytes.size());
        op_done = false;
        op_ec = {};
        with_ws([&](auto& ws) {
            ws.text(text);
            ws.async_write(asio::buffer(write_buffer), [this](beast::error_code ec, std::size_t) {
                op_ec = ec;
                op_done = true;
            });
        });
        return wait_op(Clock::now() + timeout, "send");
    }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() = default;
WsClient::WsClient(WsClient&&) noexcept = default;
WsClient& WsClient::operator=(WsClient&&) noexcept = default;

ConnectResult WsClient::connect(std::uint16_t port, const ConnectOptions& options) {
    // Start from a clean slate: a client can reconnect.
    impl_ = std::make_unique<Impl>();
    Impl& m = *impl_;
    ConnectResult result;
    const auto deadline = Clock::now() + options.timeout;

    if (options.tls) {
        m.tls_context = make_client_tls();
        m.tls = std::make_unique<TlsWs>(m.io, *m.tls_context);
    } else {
        m.plain = std::make_unique<PlainWs>(m.io);
    }

    beast::error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address(options.host, ec), port);
    if (ec) {
        result.error = "bad host " + options.host + ": " + ec.message();
        return result;
    }
    tcp::socket& socket = m.lowest().socket();
    socket.open(endpoint.protocol(), ec);
    if (!ec && !options.source_address.empty()) {
        socket.bind(tcp::endpoint(asio::ip::make_address(options.source_address, ec), 0), ec);
    }
    if (!ec && options.receive_buffer_bytes) {
        socket.set_option(asio::socket_base::receive_buffer_size(*options.receive_buffer_bytes),
                          ec);
    }
    if (ec) {
        result.error = "socket: " + ec.message();
        return result;
    }

    m.op_done = false;
    m.lowest().async_connect(endpoint, [&m](beast::error_code e) {
        m.op_ec = e;
        m.op_done = true;
    });
    if (!m.wait_op(deadline, "connect")) {
        result.error = m.last_error;
        return result;
    }

    if (m.tls) {
        m.op_done = false;
        m.tls->next_layer().async_handshake(ssl::stream_base::client, [&m](beast::error_code e) {
            m.op_ec = e;
            m.op_done = true;
        });
        if (!m.wait_op(deadline, "tls handshake")) {
            result.error = m.last_error;
            return result;
        }
    }

    websocket::response_type response;
    m.op_done = false;
    const std::string host = options.host + ":" + std::to_string(port);
    m.with_ws([&](auto& ws) {
        ws.read_message_max(kMaxIncomingMessage);
        // One masked frame goes out in one piece. With Beast's default (4 KiB) a large frame is
        // written in several sends, and a server that refuses it after the first one (1009)
        // makes the later sends fail, after which Beast will not read the close frame.
        ws.write_buffer_bytes(kWriteBufferBytes);
        ws.set_option(websocket::stream_base::decorator(
            [subprotocol = options.subprotocol, origin = options.origin,
             extra = options.extra_headers](websocket::request_type& request) {
                request.set(http::field::user_agent, "haven-test-client");
                for (const auto& [name, value] : extra) request.set(name, value);
                if (!subprotocol.empty()) {
                    request.set(http::field::sec_websocket_protocol, subprotocol);
                }
                if (origin) request.set(http::field::origin, *origin);
            }));
        ws.async_handshake(response, host, options.target, [&m](beast::error_code e) {
            m.op_ec = e;
            m.op_done = true;
        });
    });
    const bool upgraded = m.wait_op(deadline, "upgrade");
    result.http_status = response.result_int();
    if (!upgraded) {
        result.error = m.last_error;
        if (result.http_status != 0 && result.http_status != 101) {
            result.error +=
                " (HTTP " + std::to_string(result.http_status) + ": " + response.body() + ")";
        }
        m.drop();
        return result;
    }
    m.subprotocol = std::string(response[http::field::sec_websocket_protocol]);
    m.encoding = m.subprotocol == protocol::kJsonSubprotocol ? protocol::Encoding::json
                                                             : protocol::Encoding::binary;
    m.open = true;
    result.ok = true;
    return result;
}

bool WsClient::is_open() const {
    return impl_->open && !impl_->ended;
}
protocol::Encoding WsClient::encoding() const {
    return impl_->encoding;
}
const std::string& WsClient::negotiated_subprotocol() const {
    return impl_->subprotocol;
}

bool WsClient::send(const v1::ClientMessage& message, Millis timeout) {
    return impl_->write(protocol::encode_client(message, impl_->encoding),
                        impl_->encoding == protocol::Encoding::json, timeout);
}

bool WsClient::send_raw(std::string_view bytes, bool text_frame, Millis timeout) {
    return impl_->write(bytes, text_frame, timeout);
}

std::optional<Frame> WsClient::receive_frame(Millis timeout) {
    return impl_->receive_frame(timeout);
}

std::optional<v1::ServerMessage> WsClient::receive(Millis timeout) {
    auto frame = impl_->receive_frame(timeout);
    if (!frame) return std::nullopt;
    v1::ServerMessage message;
    if (!protocol::decode_server(frame->bytes, impl_->encoding, message)) {
        impl_->last_error = std::string("receive: undecodable ") +
                            (frame->text ? "text" : "binary") + " frame of " +
                            std::to_string(frame->bytes.size()) + " bytes";
        return std::nullopt;
    }
    return message;
}

std::optional<v1::ServerMessage> WsClient::receive_until(
    const std::function<bool(const v1::ServerMessage&)>& match, Millis timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto now = Clock::now();
        const auto left =
            now >= deadline ? Millis(0) : std::chrono::duration_cast<Millis>(deadline - now);
        auto message = receive(left);
        if (!message) return std::nullopt;
        if (match(*message)) return message;
        impl_->skipped.push_back(std::move(*message));
    }
}

const std::vector<v1::ServerMessage>& WsClient::skipped() const {
    return impl_->skipped;
}
void WsClient::clear_skipped() {
    impl_->skipped.clear();
}

bool WsClient::wait_closed(Millis timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!impl_->ended) {
        const auto now = Clock::now();
        if (now >= deadline) return false;
        (void)impl_->receive_frame(std::chrono::duration_cast<Millis>(deadline - now));
    }
    return true;
}

std::optional<std::uint16_t> WsClient::close_code() const {
    return impl_->close_code;
}
bool WsClient::closed() const {
    return impl_->ended;
}

void WsClient::close(std::uint16_t code, Millis timeout) {
    Impl& m = *impl_;
    if (m.ended || !m.has_stream()) return;
    const auto deadline = Clock::now() + timeout;
    m.op_done = false;
    m.op_ec = {};
    m.with_ws([&](auto& ws) {
        ws.async_close(websocket::close_reason(code), [&m](beast::error_code ec) {
            m.op_ec = ec;
            m.op_done = true;
        });
    });
    run_until(
        m.io, [&] { return m.op_done && !m.read_pending; }, deadline);
    m.drop();
}

void WsClient::drop() {
    impl_->drop();
}

const std::string& WsClient::last_error() const {
    return impl_->last_error;
}

// ---- http_get ------------------------------------------------------------------------------

namespace {

// Everything an HTTP exchange's pending operations may touch; it outlives them (see Cleanup).
struct Exchange {
    http::request<http::string_body> request;
    http::response<http::string_body> response;
    beast::flat_buffer buffer;
    bool done = false;
    beast::error_code ec;

    auto handler() {
        done = false;
        return [this](beast::error_code e, auto&&...) {
            ec = e;
            done = true;
        };
    }
};

template <class Stream>
HttpResult http_exchange(asio::io_context& io, Stream& stream, Exchange& x, std::uint16_t port,
                         const std::string& path, Clock::time_point deadline,
                         const std::string& bearer, const std::string* body) {
    HttpResult result;
    x.request = {body != nullptr ? http::verb::post : http::verb::get, path, 11};
    if (body != nullptr) {
        x.request.set(http::field::content_type, "application/json");
        x.request.body() = *body;
        x.request.prepare_payload();
    }
    if (!bearer.empty()) x.request.set(http::field::authorization, "Bearer " + bearer);
    x.request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    x.request.set(http::field::user_agent, "haven-test-client");
    x.request.keep_alive(false);

    http::async_write(stream, x.request, x.handler());
    if (!run_until(
            io, [&] { return x.done; }, deadline) ||
        x.ec) {
        result.error = "write: " + (x.ec ? x.ec.message() : std::string("timed out"));
        return result;
    }
    http::async_read(stream, x.buffer, x.response, x.handler());
    if (!run_until(
            io, [&] { return x.done; }, deadline) ||
        x.ec) {
        result.error = "read: " + (x.ec ? x.ec.message() : std::string("timed out"));
        return result;
    }
    result.status = x.response.result_int();
    for (const auto& field : x.response) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        result.headers[name] = std::string(field.value());
    }
    result.body = std::move(x.response.body());
    return result;
}

}  // namespace

namespace {

HttpResult http_request(std::uint16_t port, const std::string& path, bool tls, Millis timeout,
                        const std::string& bearer, const std::string* body) {
    asio::io_context io;
    const auto deadline = Clock::now() + timeout;
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
    HttpResult result;

    std::unique_ptr<ssl::context> tls_context;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    if (tls) {
        tls_context = make_client_tls();
        secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls_context);
    } else {
        plain = std::make_unique<beast::tcp_stream>(io);
    }
    beast::tcp_stream& lowest = tls ? beast::get_lowest_layer(*secure) : *plain;
    // The stream's own timer also bounds every operation, whatever happens below.
    lowest.expires_after(timeout);
    Exchange exchange;

    // Whatever is still pending when we leave finishes (aborted) while its state still exists.
    struct Cleanup {
        asio::io_context& io;
        beast::tcp_stream& lowest;
        ~Cleanup() {
            beast::error_code ignored;
            lowest.socket().close(ignored);
            io.restart();
            io.run_for(kDrainLimit);
        }
    } cleanup{io, lowest};

    lowest.async_connect(endpoint, exchange.handler());
    if (!run_until(
            io, [&] { return exchange.done; }, deadline) ||
        exchange.ec) {
        result.error =
            "connect: " + (exchange.ec ? exchange.ec.message() : std::string("timed out"));
        return result;
    }
    if (tls) {
        secure->async_handshake(ssl::stream_base::client, exchange.handler());
        if (!run_until(
                io, [&] { return exchange.done; }, deadline) ||
            exchange.ec) {
            result.error = "tls handshake: " +
                           (exchange.ec ? exchange.ec.message() : std::string("timed out"));
            return result;
        }
        return http_exchange(io, *secure, exchange, port, path, deadline, bearer, body);
    }
    return http_exchange(io, *plain, exchange, port, path, deadline, bearer, body);
}

}  // namespace

HttpResult http_get(std::uint16_t port, const std::string& path, bool tls, Millis timeout,
                    const std::string& bearer) {
    return http_request(port, path, tls, timeout, bearer, nullptr);
}

HttpResult http_post(std::uint16_t port, const std::string& path, const std::string& json_body,
                     const std::string& bearer, bool tls, Millis timeout) {
    return http_request(port, path, tls, timeout, bearer, &json_body);
}

// ---- RawTcp --------------------------------------------------------------------------------

RawTcp::~RawTcp() {
    close();
}

bool RawTcp::connect(std::uint16_t port, Millis timeout, const std::string& source_address) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return false;
    if (!source_address.empty()) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        if (::inet_pton(AF_INET, source_address.c_str(), &local.sin_addr) != 1 ||
            ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
            close();
            return false;
        }
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        if (errno != EINPROGRESS) {
            close();
            return false;
        }
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
            close();
            return false;
        }
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            close();
            return false;
        }
    }
    return true;
}

bool RawTcp::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                pollfd p{fd_, POLLOUT, 0};
                if (::poll(&p, 1, static_cast<int>(kDefaultWait.count())) != 1) return false;
                continue;
            }
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
}

std::string RawTcp::read_some(std::size_t max, Millis timeout) {
    std::string out;
    const auto deadline = Clock::now() + timeout;
    while (out.size() < max) {
        const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
        char buffer[4096];
        const ssize_t got = ::recv(fd_, buffer, std::min(sizeof buffer, max - out.size()), 0);
        if (got <= 0) break;
        out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
}

bool RawTcp::wait_closed_by_peer(Millis timeout) {
    if (fd_ < 0) return true;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        char buffer[4096];
        const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
        if (got == 0) return true;  // orderly close
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            return true;  // reset: closed as well
        }
    }
}

void RawTcp::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

}  // namespace haven::test
