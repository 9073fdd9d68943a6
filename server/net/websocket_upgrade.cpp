#include "net/upgrade_policy.hpp"
#include "net/websocket_session.hpp"
#include "net/ws_frames.hpp"

namespace haven::net {

namespace http = boost::beast::http;

UpgradeResponse upgrade_response(const Request& request, const std::string& subprotocol) {
    UpgradeResponse response;
    response.version(request.version());
    response.set(http::field::server, "haven");
    const std::string_view key = request[http::field::sec_websocket_key];
    switch (check_handshake(request[http::field::sec_websocket_version], key)) {
        case Handshake::wrong_version:
            response.result(http::status::upgrade_required);
            response.set(http::field::sec_websocket_version, "13");
            return response;
        case Handshake::bad_key:
            response.result(http::status::bad_request);
            return response;
        case Handshake::accept:
            break;
    }
    response.result(http::status::switching_protocols);
    response.set(http::field::upgrade, "websocket");
    response.set(http::field::connection, "upgrade");
    response.set(http::field::sec_websocket_accept, ws::accept_key(key));
    if (!subprotocol.empty()) response.set(http::field::sec_websocket_protocol, subprotocol);
    return response;
}

}  // namespace haven::net
