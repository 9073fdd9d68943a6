#include "net/websocket_session_impl.hpp"

#include <unistd.h>

namespace haven::net {

void start_websocket_session(PlainStream stream, Request request, NetContext& context,
                             protocol::Encoding encoding, std::string subprotocol,
                             std::string early_bytes, core::AddressLimits::Lease address) {
    boost::asio::ip::tcp::socket released = stream.release_socket();
    // Listeners run on their shard's io_context (server/net/listener), so this always holds.
    const auto* executor = released.get_executor().target<boost::asio::io_context::executor_type>();
    if (executor == nullptr) {
        spdlog::error("websocket: connection not on an io_context executor; dropped");
        return;
    }
    boost::system::error_code ec;
    const auto protocol = released.local_endpoint(ec).protocol();
    if (ec) return;  // the peer is already gone: nothing to serve
    const auto descriptor = released.release(ec);
    if (ec) return;
    PlainSocket socket(*executor);
    socket.assign(protocol, descriptor, ec);
    if (ec) {
        ::close(descriptor);
        return;
    }
    launch_websocket_session(std::move(socket), std::move(request), context, encoding,
                             std::move(subprotocol), std::move(early_bytes), std::move(address));
}

}  // namespace haven::net
