#include "net/websocket_session_impl.hpp"

namespace haven::net {

void start_websocket_session(PlainStream stream, Request request, NetContext& context,
                             protocol::Encoding encoding, std::string subprotocol) {
    launch_websocket_session(std::move(stream), std::move(request), context, encoding,
                             std::move(subprotocol));
}

}  // namespace haven::net
