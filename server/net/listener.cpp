#include "net/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/socket_base.hpp>

#include "net/http_session.hpp"

namespace haven::net {

namespace asio = boost::asio;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

void check_port_unclaimed(const asio::ip::tcp::endpoint& endpoint) {
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io);
    probe.open(endpoint.protocol());
    // SO_REUSEADDR only: connections of an earlier run still in TIME_WAIT must not count as a
    // listener, or a restart would fail for a minute.
    probe.set_option(asio::socket_base::reuse_address(true));
    probe.bind(endpoint);
}

Listener::Listener(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint,
                   NetContext& context)
    : acceptor_(io), retry_timer_(io), context_(context) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.set_option(ReusePort(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

void Listener::start() {
    do_accept();
}

void Listener::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
}

void Listener::do_accept() {
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, asio::ip::tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;  // stopped
            if (ec) {
                // e.g. out of file descriptors: pause instead of spinning, then accept again
                // once some connections have gone.
                spdlog::warn("accept failed: {}", ec.message());
                self->retry_timer_.expires_after(std::chrono::milliseconds(100));
                self->retry_timer_.async_wait([self](boost::system::error_code wait_ec) {
                    if (!wait_ec && self->acceptor_.is_open()) self->do_accept();
                });
                return;
            }
            boost::system::error_code ignored;
            socket.set_option(asio::ip::tcp::no_delay(true), ignored);
            accept_connection(std::move(socket), self->context_);
            if (self->acceptor_.is_open()) self->do_accept();
        });
}

}  // namespace haven::net
