// Headers every HTTP response carries, whatever answered it (the web client's files, health,
// metrics, the room list, the admin API, errors): a strict Content-Security-Policy for the
// web client, no MIME sniffing, no referrer, no framing, and HSTS while TLS is on.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace haven::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// `host` is the request's Host header (it names the WebSocket the client opens, ws(s)://host/ws,
// in the policy's connect-src; left out when it is not a plain host[:port]). `tls` says
// whether this connection is TLS.
HeaderList security_headers(const config::TlsConfig& tls_config, bool tls, std::string_view host);

// The Content-Security-Policy on its own (for tests and documentation).
std::string content_security_policy(bool tls, std::string_view host);

}  // namespace haven::http
