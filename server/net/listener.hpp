// One acceptor per shard on the shared port (SO_REUSEPORT): the kernel spreads new
// connections over the shards, and each connection stays on the shard that accepted it.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/net_context.hpp"

namespace haven::net {

// Throws boost::system::system_error (address in use) when a socket of another process
// already listens on `endpoint`. The shards' own acceptors use SO_REUSEPORT to share the port,
// which would just as quietly share it with a second haven-server (of the same user) and hand
// it half the new connections. A bind without SO_REUSEPORT conflicts with any listener there,
// so this probe, bound and closed again before the shards bind, tells the two cases apart; a
// later process's probe then fails against this one's acceptors.
void check_port_unclaimed(const boost::asio::ip::tcp::endpoint& endpoint);

class Listener : public std::enable_shared_from_this<Listener> {
public:
    // Binds and listens; throws boost::system::system_error when the address is unusable.
    Listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             NetContext& context);

    void start();
    void stop();  // call on the listener's shard
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

private:
    void do_accept();

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;  // pauses accepting after an error such as EMFILE
    NetContext& context_;
};

}  // namespace haven::net
