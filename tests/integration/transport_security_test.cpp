// Transport and HTTP hardening against the real server: which TLS suites and versions it
// agrees to (checked with Debian's `openssl s_client`), the security headers on every HTTP
// response, and /metrics behind a bearer token.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

namespace fs = std::filesystem;

// A self-signed certificate of the given key type ("rsa:2048", or "ec" with P-256) and the
// [tls] table that uses it. RSA matters for the suite checks: RSA key exchange needs an RSA
// certificate, so only with one does refusing it show anything.
std::string tls_table(const fs::path& dir, const std::string& key_type,
                      const std::string& extra = "") {
    const fs::path cert = dir / "cert.pem";
    const fs::path key = dir / "key.pem";
    const std::string params =
        key_type == "ec" ? "ec -pkeyopt ec_paramgen_curve:prime256v1" : key_type;
    const std::string command = "openssl req -x509 -newkey " + params + " -nodes -keyout '" +
                                key.string() + "' -out '" + cert.string() +
                                "' -days 1 -subj /CN=localhost >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    return "[tls]\ncert = \"" + cert.string() + "\"\nkey = \"" + key.string() + "\"\n" + extra;
}

struct Handshake {
    bool connected = false;
    std::string output;  // s_client's, for failure messages
};

// One handshake with `openssl s_client` on loopback, bounded by `timeout`. `options` picks
// the version and suites offered; the client's own security level is lowered so that what it
// offers is what the server must refuse, not something the client already leaves out.
Handshake handshake(std::uint16_t port, const std::string& options) {
    const std::string command =
        "timeout 10 openssl s_client -brief -connect 127.0.0.1:" + std::to_string(port) + " " +
        options + " </dev/null 2>&1";
    Handshake result;
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr)
        result.output += buffer.data();
    const int status = ::pclose(pipe);
    result.connected = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                       result.output.find("CONNECTION ESTABLISHED") != std::string::npos;
    return result;
}

// The server refused: the handshake failed with an alert from it (not a client-side error
// such as "no cipher match", which would prove nothing).
void check_refused(std::uint16_t port, const std::string& options) {
    const Handshake attempt = handshake(port, options);
    INFO("s_client " << options << ":\n" << attempt.output);
    CHECK_FALSE(attempt.connected);
    CHECK(attempt.output.find("alert") != std::string::npos);
}

void check_connects(std::uint16_t port, const std::string& options,
                    const std::string& expected_suite) {
    const Handshake attempt = handshake(port, options);
    INFO("s_client " << options << ":\n" << attempt.output);
    CHECK(attempt.connected);
    CHECK(attempt.output.find("Ciphersuite: " + expected_suite) != std::string::npos);
}

TEST_CASE("TLS: 1.2 agrees only to ECDHE suites with AEAD ciphers, and 1.1 is refused") {
    TempDir keys;
    ServerProcess server({.toml = tls_table(keys.path(), "rsa:2048")});
    require_started(server);
    const std::uint16_t port = server.port();

    check_connects(port, "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256",
                   "ECDHE-RSA-AES128-GCM-SHA256");
    check_connects(port, "-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305",
                   "ECDHE-RSA-CHACHA20-POLY1305");
    check_connects(port, "-tls1_3", "TLS_");
    // RSA key exchange with CBC and SHA-1, and RSA key exchange with GCM: no forward secrecy.
    check_refused(port, "-tls1_2 -cipher 'AES128-SHA:@SECLEVEL=0'");
    check_refused(port, "-tls1_2 -cipher 'AES256-GCM-SHA384:@SECLEVEL=0'");
    // ECDHE, but CBC.
    check_refused(port, "-tls1_2 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'");
    // Versions before 1.2, whatever the suite.
    check_refused(port, "-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'");
    check_refused(port, "-tls1 -cipher 'DEFAULT:@SECLEVEL=0'");
    CHECK(http_get(port, "/healthz", true).status == 200);
}

TEST_CASE("TLS: tls.ciphers chooses the TLS 1.2 suites offered") {
    TempDir keys;
    ServerProcess server(
        {.toml = tls_table(keys.path(), "ec", "ciphers = \"ECDHE-ECDSA-AES256-GCM-SHA384\"\n")});
    require_started(server);
    check_connects(server.port(), "-tls1_2", "ECDHE-ECDSA-AES256-GCM-SHA384");
    check_refused(server.port(), "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256");
}

// ---- security headers ------------------------------------------------------------------------

// The headers every response must carry, whatever answered it.
void check_security_headers(const HttpResult& result, bool tls, std::uint16_t port) {
    INFO("status " << result.status << " " << result.error);
    REQUIRE(result.status != 0);
    const std::string host = "127.0.0.1:" + std::to_string(port);
    const std::optional<std::string> csp = result.header("content-security-policy");
    REQUIRE(csp.has_value());
    CHECK(csp->find("default-src 'self'") != std::string::npos);
    CHECK(csp->find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp->find("object-src 'none'") != std::string::npos);
    CHECK(csp->find("base-uri 'none'") != std::string::npos);
    // The client's WebSocket, on the host it was loaded from; plain ws:// only without TLS.
    CHECK(csp->find("connect-src 'self'") != std::string::npos);
    CHECK(csp->find("wss://" + host) != std::string::npos);
    CHECK((csp->find("ws://" + host) != std::string::npos) == !tls);
    CHECK(csp->find("unsafe") == std::string::npos);
    CHECK(result.header("x-content-type-options") == std::optional<std::string>("nosniff"));
    CHECK(result.header("referrer-policy") == std::optional<std::string>("no-referrer"));
    CHECK(result.header("x-frame-options") == std::optional<std::string>("DENY"));
    if (tls) {
        CHECK(result.header("strict-transport-security") ==
              std::optional<std::string>("max-age=600"));
    } else {
        CHECK_FALSE(result.header("strict-transport-security").has_value());
    }
}

void check_every_kind_of_response(ServerProcess& server) {
    const fs::path static_dir = server.dir() / "static";
    fs::create_directories(static_dir);
    std::ofstream(static_dir / "index.html") << "<!doctype html><title>Haven</title>\n";
    std::ofstream(static_dir / "app.js") << "console.log('haven');\n";
    require_started(server);
    const bool tls = server.tls();
    struct Case {
        const char* path;
        unsigned status;
    };
    for (const Case& c : {Case{"/", 200}, Case{"/app.js", 200}, Case{"/healthz", 200},
                          Case{"/no-such-file.css", 404}, Case{"/api/rooms", 200}, Case{"/ws", 404},
                          Case{"/admin/audit", 401}}) {
        CAPTURE(c.path);
        const HttpResult result = http_get(server.port(), c.path, tls);
        CHECK(result.status == c.status);
        check_security_headers(result, tls, server.port());
    }
}

TEST_CASE("HTTP: every response carries the security headers, without HSTS on plain HTTP") {
    ServerProcess server({.toml = "[tls]\nhsts_max_age_seconds = 600\n"});
    check_every_kind_of_response(server);
}

TEST_CASE("HTTP: over TLS every response also carries Strict-Transport-Security") {
    TempDir keys;
    ServerProcess server({.toml = tls_table(keys.path(), "ec", "hsts_max_age_seconds = 600\n")});
    check_every_kind_of_response(server);
}

// ---- /metrics --------------------------------------------------------------------------------

TEST_CASE("metrics: with server.metrics_token set, /metrics answers only the right bearer token") {
    const std::string token = "metrics-token-0123456789abcdef";
    ServerProcess server({.toml = "[server]\nmetrics_token = \"" + token + "\"\n"});
    require_started(server);
    const std::uint16_t port = server.port();

    const HttpResult anonymous = http_get(port, "/metrics");
    CHECK(anonymous.status == 401);
    CHECK(anonymous.body.find("haven_") == std::string::npos);
    CHECK(anonymous.header("www-authenticate").value_or("").rfind("Bearer", 0) == 0);
    // Wrong tokens: another one of the same length, a prefix, the right one with more after it.
    for (const std::string& wrong :
         {std::string("metrics-token-0123456789abcdeX"), token.substr(0, 20), token + "0"}) {
        const HttpResult result = http_get(port, "/metrics", false, kDefaultWait, wrong);
        CHECK(result.status == 401);
        CHECK(result.body.find("haven_") == std::string::npos);
    }
    const HttpResult allowed = http_get(port, "/metrics", false, kDefaultWait, token);
    CHECK(allowed.status == 200);
    CHECK(allowed.body.find("haven_connections") != std::string::npos);
    // The token guards /metrics only.
    CHECK(http_get(port, "/healthz").status == 200);
    CHECK(http_get(port, "/readyz").status == 200);
    // Nothing of the token reaches the log.
    CHECK(server.stop(SIGINT) == std::optional<int>(0));
    CHECK(server.log().find(token.substr(0, 16)) == std::string::npos);
}

TEST_CASE("metrics: without server.metrics_token /metrics stays open") {
    ServerProcess server;
    require_started(server);
    const HttpResult result = http_get(server.port(), "/metrics");
    CHECK(result.status == 200);
    CHECK(result.body.find("haven_connections") != std::string::npos);
}

}  // namespace
}  // namespace haven::test
