// The server as a process and an HTTP endpoint: TLS, upgrade policy, HTTP routes,
// configuration errors, signals, and what ends up in its log.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <sstream>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

std::string tls_toml(const std::filesystem::path& dir) {
    const std::filesystem::path cert = dir / "c.pem";
    const std::filesystem::path key = dir / "k.pem";
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" +
        key.string() + "' -out '" + cert.string() +
        "' -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
        " >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    return "[tls]\ncert = \"" + cert.string() + "\"\nkey = \"" + key.string() + "\"\n";
}

TEST_CASE("TLS: https health checks and a wss round trip in both encodings") {
    TempDir keys;
    ServerProcess server(
        {.toml = tls_toml(keys.path()) + "[limits]\nhandshake_timeout_ms = 300\n"});
    require_started(server);
    REQUIRE(server.tls());
    const HttpResult health = http_get(server.port(), "/healthz", true);
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
    // Plain HTTP on the TLS port gets no answer.
    CHECK(http_get(server.port(), "/healthz", false, 1s).status == 0);

    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client a = guest_in(server, encoding, "lobby");  // Client picks TLS from the server
        Client b = guest_in(server, encoding, "lobby");
        const v1::Ack ack = a.post("lobby", "over TLS");
        CHECK(b.expect(posted_seq("lobby", ack.seq()), "the post").event().posted().text() ==
              "over TLS");
        a.ws().close();
        CHECK(a.ws().closed());
    }
    // A plain WebSocket client cannot talk to the TLS port.
    WsClient plain;
    ConnectOptions options;
    options.timeout = 1s;
    CHECK_FALSE(plain.connect(server.port(), options).ok);
    // A peer that never starts the TLS handshake is dropped after handshake_timeout_ms.
    RawTcp silent;
    REQUIRE(silent.connect(server.port()));
    CHECK(silent.wait_closed_by_peer(2s));
    CHECK(http_get(server.port(), "/healthz", true).status == 200);
}

TEST_CASE("JSON frames follow the protobuf JSON mapping in either field-name style") {
    ServerProcess server;
    require_started(server);
    WsClient ws;
    REQUIRE(ws.connect(server.port(), options_for(Encoding::json)).ok);
    // lowerCamelCase, and uint64 as a string.
    REQUIRE(ws.send_raw(R"({"requestId":"1","hello":{"guest":true,"guestHandle":"Json Person"}})",
                        true));
    auto frame = ws.receive_frame();
    REQUIRE(frame);
    CHECK(frame->text);
    const boost::json::value welcome = boost::json::parse(frame->bytes);
    CHECK(welcome.at("requestId") == "1");  // uint64 fields are JSON strings
    CHECK(welcome.at("welcome").at("handle") == "Json Person");
    CHECK(welcome.at("welcome").at("role") == "ROLE_PARTICIPANT");  // enums by name
    CHECK(welcome.at("welcome").as_object().contains("guestToken"));
    // The proto field names, and a plain number, are accepted too.
    REQUIRE(ws.send_raw(R"({"request_id":2,"join":{"room_id":"lobby"}})", true));
    frame = ws.receive_frame();
    REQUIRE(frame);
    const boost::json::value joined = boost::json::parse(frame->bytes);
    CHECK(joined.at("requestId") == "2");
    CHECK(joined.at("joined").at("room").at("id") == "lobby");
    REQUIRE(ws.send_raw(
        R"({"requestId":"3","post":{"roomId":"lobby","text":"hi","clientMsgId":"j1"}})", true));
    bool acked = false;
    for (int i = 0; i < 3 && !acked; ++i) {
        frame = ws.receive_frame();
        REQUIRE(frame);
        const boost::json::value message = boost::json::parse(frame->bytes);
        if (message.as_object().contains("ack")) {
            CHECK(message.at("requestId") == "3");
            CHECK(message.at("ack").at("seq") == "1");
            CHECK(message.at("ack").at("clientMsgId") == "j1");
            acked = true;
        }
    }
    CHECK(acked);
}

TEST_CASE("Origin: only allowed origins may upgrade") {
    ServerProcess server({.toml = "[server]\nallowed_origins = [\"https://haven.example\"]\n"});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        ConnectOptions evil = options_for(encoding);
        evil.origin = "https://evil.example";
        WsClient refused;
        const ConnectResult result = refused.connect(server.port(), evil);
        CHECK_FALSE(result.ok);
        CHECK(result.http_status == 403);

        ConnectOptions good = options_for(encoding);
        good.origin = "https://haven.example";
        Client allowed(server, encoding, good);
        allowed.hello_guest();
        // Non-browser clients send no Origin and are allowed.
        Client native(server, encoding);
        native.hello_guest();
    }
}

TEST_CASE("subprotocol negotiation") {
    ServerProcess server;
    require_started(server);
    WsClient ws;
    ConnectOptions options;

    options.subprotocol = "chat";
    ConnectResult result = ws.connect(server.port(), options);
    CHECK_FALSE(result.ok);
    CHECK(result.http_status == 400);

    options.subprotocol = "chat, haven.v1.json";
    REQUIRE(ws.connect(server.port(), options).ok);
    CHECK(ws.negotiated_subprotocol() == "haven.v1.json");
    CHECK(ws.encoding() == Encoding::json);
    REQUIRE(ws.send(msg_ping()));
    const auto frame = ws.receive_frame();
    REQUIRE(frame);
    CHECK(frame->text);

    options.subprotocol = "haven.v1.proto";
    REQUIRE(ws.connect(server.port(), options).ok);
    CHECK(ws.negotiated_subprotocol() == "haven.v1.proto");
    REQUIRE(ws.send(msg_ping()));
    const auto binary = ws.receive_frame();
    REQUIRE(binary);
    CHECK_FALSE(binary->text);

    options.subprotocol = "";  // no header: binary protobuf
    REQUIRE(ws.connect(server.port(), options).ok);
    CHECK(ws.negotiated_subprotocol().empty());
    CHECK(ws.encoding() == Encoding::binary);
    REQUIRE(ws.send(msg_ping()));
    const auto reply = ws.receive();
    REQUIRE(reply);
    CHECK(reply->has_pong());

    options.subprotocol = "haven.v1.proto";
    options.target = "/chat";
    result = ws.connect(server.port(), options);
    CHECK(result.http_status == 404);
}

TEST_CASE("HTTP routes") {
    ServerProcess server;
    require_started(server);
    HttpResult result = http_get(server.port(), "/healthz");
    CHECK(result.status == 200);
    CHECK(result.body == "ok\n");
    result = http_get(server.port(), "/readyz");
    CHECK(result.status == 200);
    result = http_get(server.port(), "/metrics");
    CHECK(result.status == 200);
    CHECK(result.body.find("haven_connections ") != std::string::npos);
    result = http_get(server.port(), "/api/rooms");
    REQUIRE(result.status == 200);
    const boost::json::value rooms = boost::json::parse(result.body);
    CHECK(rooms.at("rooms").as_array().size() == std::size(kDefaultRooms));
    result = http_get(server.port(), "/");
    CHECK(result.status == 200);  // the "web client not built" page
    result = http_get(server.port(), "/no/such/file.js");
    CHECK(result.status == 404);
    result = http_get(server.port(), "/../../etc/passwd");
    CHECK(result.status == 400);
}

TEST_CASE("a bad configuration stops haven-server with one line naming the key") {
    struct Case {
        const char* toml;
        const char* key;
    };
    const Case cases[] = {
        {"[limits]\nmax_frame_bytes = 12\n", "limits.max_frame_bytes"},
        {"[limits]\nmax_frame_byte = 65536\n", "limits.max_frame_byte"},
        {"[limits]\noutbound_queue_bytes = 8192\nmax_frame_bytes = 65536\n",
         "limits.outbound_queue_bytes"},
        {"[auth]\njwt_hs256_secret = \"short\"\n", "auth.jwt_hs256_secret"},
        {"[server]\nport = 0\n", "server.port"},
        {"[[rooms]]\nid = \"Bad Room\"\ntitle = \"x\"\n", "rooms[0].id"},
    };
    for (const Case& c : cases) {
        const std::string toml = c.toml;
        CAPTURE(toml);
        const RunResult run = run_server_with_config(c.toml, 5s);
        REQUIRE(run.exit_status.has_value());
        CHECK(*run.exit_status != 0);
        CHECK(run.out.empty());
        CAPTURE(run.err);
        REQUIRE_FALSE(run.err.empty());
        CHECK(run.err.back() == '\n');
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
        CHECK(run.err.find(c.key) != std::string::npos);
    }
}

TEST_CASE("SIGINT: clients see 1001 at once and the server exits 0") {
    ServerProcess server;
    require_started(server);
    Client a = guest_in(server, Encoding::binary, "lobby");
    Client b = guest_in(server, Encoding::json, "lobby");
    Client pre_hello(server, Encoding::json);
    pre_hello.ping();  // its session is open on the server
    REQUIRE(server.signal(SIGINT));
    CHECK_CLOSE_CODE(a, 1001, 2s);
    CHECK_CLOSE_CODE(b, 1001, 2s);
    CHECK_CLOSE_CODE(pre_hello, 1001, 2s);
    CHECK(server.wait_exit(5s) == std::optional<int>(0));
    CHECK(server.log().find("haven stopped") != std::string::npos);
}

TEST_CASE(
    "SIGTERM: clients are asked to reconnect and then closed with 1001 and the server exits 0") {
    ServerProcess server({.toml = "[server]\ndrain_grace_ms = 400\n"});
    require_started(server);
    Client a = guest_in(server, Encoding::binary, "lobby");
    Client b = guest_in(server, Encoding::json, "lobby");
    Client pre_hello(server, Encoding::binary);
    pre_hello.ping();
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(server.signal(SIGTERM));
    for (Client* client : {&a, &b, &pre_hello}) {
        const v1::ServerMessage reconnect = client->expect(
            [](const v1::ServerMessage& m) { return m.has_reconnect(); }, "Reconnect", 2s);
        CHECK(reconnect.request_id() == 0);
        CHECK(reconnect.reconnect().after_ms() <= 200);
    }
    // No new connections while draining.
    CHECK(http_get(server.port(), "/healthz", false, 500ms).status == 0);
    // Members who stay are closed when the grace period ends.
    CHECK_CLOSE_CODE(a, 1001, 3s);
    CHECK(std::chrono::steady_clock::now() - start >= 350ms);
    CHECK_CLOSE_CODE(b, 1001, 3s);
    CHECK_CLOSE_CODE(pre_hello, 1001, 3s);
    CHECK(server.wait_exit(5s) == std::optional<int>(0));
}

TEST_CASE("the server log never contains what people post") {
    ServerProcess server({.toml = {}, .log_level = "trace"});
    require_started(server);
    const std::string marker = unique_id("SECRET-MARKER-do-not-log");
    for (Encoding encoding : kEncodings) {
        Client a = guest_in(server, encoding, "lobby", "Marker Poster");
        a.post("lobby", "my private words: " + marker, marker);
        a.post("lobby", "again: " + marker, marker);  // a duplicate
        // Refused and broken messages carrying the text, too.
        a.send(msg_post("lobby", marker + std::string(4001, '!')));
        a.send(msg_post("grief-and-loss", marker));
        a.ws().send_raw(encoding == Encoding::json ? "{\"post\":" + marker : "\x6a\x50" + marker,
                        encoding == Encoding::json);
        a.ping();
        Client b(server, encoding);
        b.hello_guest();
        b.join("lobby");  // the history it receives contains the marker
        b.reply(b.send(msg_history("lobby", 0, 0, 10)));
        // A frame that kills the connection, with the marker in it.
        Client c(server, encoding);
        c.ws().send_raw(std::string(70000, 'x') + marker, encoding == Encoding::json);
        c.wait_close();
    }
    REQUIRE(server.stop() == std::optional<int>(0));
    const std::string log = server.log();
    CHECK_FALSE(log.empty());
    CHECK(log.find("SECRET-MARKER") == std::string::npos);
    CHECK(log.find("private words") == std::string::npos);
}

}  // namespace
}  // namespace haven::test
