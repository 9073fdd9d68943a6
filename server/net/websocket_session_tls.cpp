#include "net/websocket_session_impl.hpp"

namespace haven::net {

void start_websocket_session(TlsStream stream, Request request, NetContext& context,
                             protocol::Encoding encoding, std::string subprotocol,
                             std::string early_bytes, core::AddressLimits::Lease address) {
    launch_websocket_session(std::move(stream), std::move(request), context, encoding,
                             std::move(subprotocol), std::move(early_bytes), std::move(address));
}

}  // namespace haven::net
