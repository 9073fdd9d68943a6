#include "http/security_headers.hpp"

#include <algorithm>

namespace haven::http {
namespace {

constexpr std::size_t kMaxHostBytes = 255 + 6;  // a DNS name and ":65535"

// A name or IPv4 address and an optional port, as CSP's host-source can name it (it has no
// syntax for IPv6 literals): anything else could change the policy's meaning, so it is left
// out and 'self' alone stands.
bool plain_host(std::string_view host) {
    if (host.empty() || host.size() > kMaxHostBytes) return false;
    const std::size_t colon = host.find(':');
    const std::string_view name = host.substr(0, colon);
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
    });
    if (!name_ok || colon == std::string_view::npos) return name_ok;
    const std::string_view port = host.substr(colon + 1);
    return !port.empty() && port.size() <= 5 &&
           std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string content_security_policy(bool tls, std::string_view host) {
    // The client (client-web/src/connection.ts) opens ws(s)://<same host>/ws and fetches
    // /api/rooms; everything it loads is its own files, with no inline script or style.
    // 'self' covers the WebSocket in CSP 3 browsers; naming it serves older ones. Over TLS
    // only wss:// (ws:// would be mixed content); without TLS both, since a TLS-terminating
    // proxy in front makes the page https and its socket wss.
    std::string connect = "connect-src 'self'";
    if (plain_host(host)) {
        const std::string name(host);
        if (!tls) connect += " ws://" + name;
        connect += " wss://" + name;
    }
    return "default-src 'self'; " + connect +
           "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

HeaderList security_headers(const config::TlsConfig& tls_config, bool tls, std::string_view host) {
    HeaderList headers;
    headers.reserve(6);
    headers.emplace_back("Content-Security-Policy", content_security_policy(tls, host));
    headers.emplace_back("X-Content-Type-Options", "nosniff");
    headers.emplace_back("Referrer-Policy", "no-referrer");
    headers.emplace_back("X-Frame-Options", "DENY");  // frame-ancestors for older browsers
    if (tls) {
        headers.emplace_back("Strict-Transport-Security",
                             "max-age=" + std::to_string(tls_config.hsts_max_age_seconds));
    }
    return headers;
}

}  // namespace haven::http
