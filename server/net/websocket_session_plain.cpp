#include "net/websocket_session_impl.hpp"

namespace haven::net {

void start_websocket_session(PlainStream stream, Request request, NetContext& context,
                             protocol::Encoding encoding, std::string subprotocol) {
    boost::asio::ip::tcp::socket released = stream.release_socket();
    const auto* executor = released.get_executor().target<boost::asio::io_context::executor_type>();
    boost::system::error_code ec;
    const auto protocol = released.local_endpoint(ec).protocol();
    if (ec || executor == nullptr) return;  // the peer is already gone: nothing to serve
    PlainSocket socket(*executor, protocol, released.release(ec));
    if (ec) return;
    launch_websocket_session(std::move(socket), std::move(request), context, encoding,
                             std::move(subprotocol));
}

}  // namespace haven::net
