// Bad input, limits and timeouts: everything a broken or hostile client can do, and that the
// server survives it.
// Over 400 lines: one case per abuse, each short; split by topic they would share the raw-socket setup.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "integration/helpers.hpp"
#include "integration/raw_websocket.hpp"

namespace haven::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string truncated_post() {
    std::string bytes = protocol::encode_client(msg_post("lobby", "cut short"), Encoding::binary);
    bytes.pop_back();
    return bytes;
}

TEST_CASE("malformed frames get BAD_FRAME and the connection stays usable") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        client.hello_guest();
        std::vector<std::string> bad;
        if (encoding == Encoding::binary) {
            bad = {std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11),
                   std::string("\x0a\x05"
                               "ab",
                               4),
                   truncated_post()};
        } else {
            bad = {"{not json", "[1,2,3]", R"({"join":{"roomId":42}})", R"({"requestId":"x"})",
                   "\"just a string\""};
        }
        for (const std::string& bytes : bad) {
            CAPTURE(bytes);
            REQUIRE(client.ws().send_raw(bytes, encoding == Encoding::json));
            const v1::ServerMessage reply =
                client.expect([](const v1::ServerMessage& m) { return m.has_error(); }, "an Error");
            CHECK(reply.error().code() == v1::BAD_FRAME);
            CHECK(reply.request_id() == 0);
            client.ping();
        }
        // Still a working session.
        client.join("lobby");
        client.post("lobby", "still here");
    }
    const auto bad_frames = metric(server, "haven_bad_frames_total");
    CHECK(bad_frames == 8u);
}

TEST_CASE("a message with no known body gets UNKNOWN_MESSAGE") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        const bool text = encoding == Encoding::json;
        // Empty message.
        REQUIRE(client.ws().send_raw(text ? "{}" : "", text));
        v1::ServerMessage reply =
            client.expect([](const v1::ServerMessage& m) { return m.has_error(); }, "an Error");
        CHECK(reply.error().code() == v1::UNKNOWN_MESSAGE);
        // Only a field this server does not know (a newer client's message type): the
        // request id is still echoed.
        REQUIRE(client.ws().send_raw(text ? R"({"requestId":"5","somethingNew":{"a":1}})"
                                          : std::string("\x08\x05\x9a\x06\x00", 5),
                                     text));
        reply = client.reply(5);
        REQUIRE(reply.has_error());
        CHECK(reply.error().code() == v1::UNKNOWN_MESSAGE);
        // Same after Hello.
        client.hello_guest();
        v1::ClientMessage empty;
        CHECK(client.error_reply(client.send(empty)) == v1::UNKNOWN_MESSAGE);
        client.ping();
    }
}

TEST_CASE("requests that do not fit the session's state get precise errors") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        client.hello_guest();
        CHECK(client.error_reply(client.send(msg_post("lobby", "hello?"))) == v1::NOT_JOINED);
        CHECK(client.error_reply(client.send(msg_join("no-such-room"))) == v1::UNKNOWN_ROOM);
        CHECK(client.error_reply(client.send(msg_join(""))) == v1::BAD_REQUEST);
        client.join("lobby");
        CHECK(client.error_reply(client.send(msg_post("lobby", ""))) == v1::BAD_REQUEST);
        CHECK(client.error_reply(client.send(msg_post("lobby", std::string(4001, 'a')))) ==
              v1::POST_TOO_LONG);
        CHECK(client.error_reply(client.send(msg_post("lobby", "x", std::string(65, 'i')))) ==
              v1::BAD_REQUEST);
        CHECK(client.error_reply(client.send(msg_post("anxiety-support", "x"))) == v1::NOT_JOINED);
        // 4000 code points is fine, even when each takes four bytes.
        std::string longest;
        for (int i = 0; i < 4000; ++i) longest += "\xF0\x9F\x8C\xBF";  // U+1F33F
        client.post("lobby", longest);
    }
}

TEST_CASE("a frame over limits.max_frame_bytes closes the connection with 1009") {
    ServerProcess server({.toml = "[limits]\nmax_frame_bytes = 1024\nmax_post_chars = 200\n"});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        client.hello_guest();
        client.join("lobby");
        // Just under the limit is fine (the post is refused for its length, not the frame).
        std::string fits =
            protocol::encode_client(msg_post("lobby", std::string(900, 'a')), encoding);
        REQUIRE(fits.size() <= 1024);
        REQUIRE(client.ws().send_raw(fits, encoding == Encoding::json));
        CHECK(client.expect([](const v1::ServerMessage& m) { return m.has_error(); }, "an Error")
                  .error()
                  .code() == v1::POST_TOO_LONG);
        const std::string big =
            protocol::encode_client(msg_post("lobby", std::string(4096, 'a')), encoding);
        client.ws().send_raw(big, encoding == Encoding::json);
        CHECK_CLOSE_CODE(client, 1009, kDefaultWait);
    }
    CHECK(http_get(server.port(), "/healthz").status == 200);
}

TEST_CASE("invalid UTF-8 in a text frame closes the connection with 1007") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client client(server, encoding);
        client.hello_guest();
        client.ws().send_raw("{\"post\":{\"roomId\":\"lobby\",\"text\":\"\xc3\x28\"}}", true);
        CHECK_CLOSE_CODE(client, 1007, kDefaultWait);
    }
}

TEST_CASE("a connection that never finishes its HTTP upgrade is dropped") {
    ServerProcess server({.toml = "[limits]\nhandshake_timeout_ms = 300\n"});
    require_started(server);
    RawTcp half;
    REQUIRE(half.connect(server.port()));
    const auto start = Clock::now();
    REQUIRE(half.send("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"));
    RawTcp silent;
    REQUIRE(silent.connect(server.port()));
    CHECK(half.wait_closed_by_peer(3s));
    const auto waited = Clock::now() - start;
    CHECK(waited >= 250ms);
    CHECK(waited < 2s);
    CHECK(silent.wait_closed_by_peer(1s));
    CHECK(http_get(server.port(), "/healthz").status == 200);
}

TEST_CASE("an idle client that does not answer pings is dropped") {
    ServerProcess server({.toml = "[limits]\nidle_timeout_ms = 500\n"});
    require_started(server);
    Client idle(server, Encoding::binary);
    idle.hello_guest();
    Client lively(server, Encoding::json);
    lively.hello_guest();
    REQUIRE(eventually([&] { return metric(server, "haven_connections") == 2u; }));
    // `lively` keeps reading, so it answers the server's pings; `idle` runs no I/O at all.
    const auto start = Clock::now();
    bool dropped = false;
    while (Clock::now() - start < 3s) {
        (void)lively.ws().receive(50ms);
        if (metric(server, "haven_connections") == 1u) {
            dropped = true;
            break;
        }
    }
    CHECK(dropped);
    CHECK(Clock::now() - start >= 400ms);
    // Pings kept the other connection alive past the idle timeout.
    for (int i = 0; i < 8; ++i) (void)lively.ws().receive(50ms);
    lively.ping();
    CHECK(metric(server, "haven_connections") == 1u);
    // From the idle side, the connection is gone.
    idle.ws().wait_closed(2s);
    CHECK(idle.ws().closed());
}

TEST_CASE("a client that never sends Hello is closed with 4000") {
    ServerProcess server({.toml = "[limits]\nhello_timeout_ms = 300\n"});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client silent(server, encoding);
        Client polite(server, encoding);
        polite.hello_guest();
        silent.ping();  // Ping does not count as Hello
        const auto start = Clock::now();
        CHECK_CLOSE_CODE(silent, 4000, 3s);
        CHECK(Clock::now() - start < 2500ms);
        polite.ping();  // a session that said Hello is unaffected
    }
}

TEST_CASE("posting faster than the rate limit gets RATE_LIMITED and loses nothing else") {
    ServerProcess server({.toml = "[limits]\nposts_per_second = 10.0\npost_burst = 3\n"});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "anxiety-support" : "lobby";
        Client author = guest_in(server, encoding, room);
        Client reader = guest_in(server, encoding, room);
        std::vector<std::pair<std::uint64_t, std::string>> sent;
        for (int i = 0; i < 10; ++i) {
            const std::string id = unique_id("flood");
            sent.emplace_back(author.send(msg_post(room, "flood " + std::to_string(i), id)), id);
        }
        std::set<std::string> accepted;
        std::vector<std::uint64_t> seqs;
        std::uint32_t retry_after = 0;
        for (const auto& [request, id] : sent) {
            const v1::ServerMessage reply = author.reply(request);
            INFO(describe(reply));
            if (reply.has_ack()) {
                accepted.insert(id);
                seqs.push_back(reply.ack().seq());
            } else {
                REQUIRE(reply.has_error());
                CHECK(reply.error().code() == v1::RATE_LIMITED);
                CHECK(reply.error().retry_after_ms() > 0);
                CHECK(reply.error().retry_after_ms() <= 100);
                retry_after = std::max(retry_after, reply.error().retry_after_ms());
            }
        }
        // The burst, plus at most what refilled while the server worked through the rest.
        CHECK(accepted.size() >= 3);
        CHECK(accepted.size() < sent.size());
        for (std::size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i] == seqs[i - 1] + 1);

        // After the advertised wait a post goes through again.
        std::this_thread::sleep_for(Millis(retry_after + 5));
        const std::string sentinel = unique_id("sentinel");
        author.post(room, "after waiting", sentinel);
        reader.expect(posted_with_id(sentinel), "the sentinel");
        std::set<std::string> delivered;
        for (const auto& message : reader.inbox()) {
            if (message.has_event() && message.event().has_posted()) {
                delivered.insert(message.event().posted().client_msg_id());
            }
        }
        CHECK(delivered == accepted);
    }
    CHECK(metric(server, "haven_rate_limited_total") >= 12u);
}

TEST_CASE("a slow consumer is disconnected with 4008 and the server stays healthy") {
    // Small queues so a stalled reader overflows quickly; posts as fast as we like.
    ServerProcess server({.toml = "[limits]\nmax_frame_bytes = 65536\nmax_post_chars = 16000\n"
                                  "outbound_queue_bytes = 65536\nposts_per_second = 1000.0\n"
                                  "post_burst = 10000\n[history]\nmax_events = 20\n"
                                  "join_events = 0\n"});
    require_started(server);
    const std::string room = "lobby";
    ConnectOptions tiny;
    tiny.receive_buffer_bytes = 4096;
    Client slow(server, Encoding::binary, tiny);
    slow.hello_guest("Slow Reader");
    slow.join(room);
    Client author = guest_in(server, Encoding::json, room);
    // From here on `slow` reads nothing; the author keeps up with its own traffic.
    const std::string text(15000, 'z');
    int posts = 0;
    bool overflowed = false;
    while (posts < 600 && !overflowed) {
        const v1::Ack ack = author.post(room, text);
        author.expect(posted_seq(room, ack.seq()), "own event");
        author.inbox().clear();
        ++posts;
        if (posts % 5 == 0)
            overflowed = metric(server, "haven_slow_consumer_disconnects_total") >= 1u;
    }
    INFO("posts sent: " << posts);
    REQUIRE(overflowed);
    // Reading now drains what was in flight, then shows the close.
    CHECK_CLOSE_CODE(slow, 4008, 5s);
    // The server and the room carry on.
    CHECK(http_get(server.port(), "/healthz").status == 200);
    author.post(room, "still flowing");
    Client fresh = guest_in(server, Encoding::binary, room);
    const v1::Ack ack = author.post(room, "hello newcomer");
    fresh.expect(posted_seq(room, ack.seq()), "the newcomer's first event");
}

TEST_CASE("after a barrage of abuse a normal client still joins and posts") {
    ServerProcess server({.toml = "[limits]\nhandshake_timeout_ms = 300\nhello_timeout_ms = 300\n"
                                  "max_frame_bytes = 1024\nmax_post_chars = 200\n"
                                  "posts_per_second = 10.0\npost_burst = 3\n"});
    require_started(server);
    const std::uint16_t port = server.port();

    // Below HTTP: half requests, silence, garbage, a TLS hello on a plain port.
    std::vector<std::unique_ptr<RawTcp>> raw;
    for (const char* bytes : {"GET /ws HTTP/1.1\r\nHost: x\r\n", "", "\x00\x01garbage\r\n\r\n",
                              "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}) {
        raw.push_back(std::make_unique<RawTcp>());
        REQUIRE(raw.back()->connect(port));
        raw.back()->send(bytes);
    }
    // Upgrades that are refused.
    {
        WsClient ws;
        ConnectOptions wrong_path;
        wrong_path.target = "/nope";
        CHECK(ws.connect(port, wrong_path).http_status == 404);
        ConnectOptions chat;
        chat.subprotocol = "chat";
        CHECK(ws.connect(port, chat).http_status == 400);
    }
    for (Encoding encoding : kEncodings) {
        const bool text = encoding == Encoding::json;
        // Garbage frames, unknown messages, wrong state.
        Client junk(server, encoding);
        junk.ws().send_raw(text ? "{{{" : "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", text);
        junk.ws().send_raw(text ? "{}" : "", text);
        junk.send(msg_post("lobby", "not joined"));
        junk.hello_guest();
        junk.send(msg_join("nowhere"));
        junk.join("lobby");
        for (int i = 0; i < 8; ++i) junk.send(msg_post("lobby", "flood"));
        junk.send(msg_post("lobby", std::string(201, 'x')));
        junk.ping();
        // Protocol violations that end the connection.
        Client oversize(server, encoding);
        oversize.ws().send_raw(std::string(5000, 'a'), text);
        Client bad_utf8(server, encoding);
        bad_utf8.ws().send_raw("\xff\xfe", true);
        // Five bad Hellos.
        Client guesser(server, encoding);
        for (int i = 0; i < 5; ++i) guesser.send(msg_hello_token("a.b.c"));
        // Gone in the middle of a Join, and gone without a close.
        Client hasty(server, encoding);
        hasty.send(msg_hello_guest());
        hasty.send(msg_join("lobby"));
        hasty.ws().drop();
        // Never says Hello.
        Client mute(server, encoding);

        CHECK_CLOSE_CODE(oversize, 1009, kDefaultWait);
        CHECK_CLOSE_CODE(bad_utf8, 1007, kDefaultWait);
        CHECK_CLOSE_CODE(guesser, 1008, kDefaultWait);
        CHECK_CLOSE_CODE(mute, 4000, 3s);
        junk.ping();
    }
    for (auto& connection : raw) CHECK(connection->wait_closed_by_peer(3s));

    // And now someone who just wants to talk.
    CHECK(http_get(port, "/healthz").status == 200);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client a = guest_in(server, encoding, "evening-circle");
        Client b = guest_in(server, encoding, "evening-circle");
        const v1::Ack ack = a.post("evening-circle", "is anyone around tonight?");
        CHECK_FALSE(ack.duplicate());
        b.expect(posted_seq("evening-circle", ack.seq()), "the post");
        a.expect(posted_seq("evening-circle", ack.seq()), "own post");
    }
    CHECK(server.running());
}

}  // namespace
}  // namespace haven::test

namespace haven::test {
namespace {

TEST_CASE("frames cut into pieces, or several in one segment, are read whole and in order") {
    ServerProcess server;
    require_started(server);
    RawTcp tcp;
    REQUIRE(tcp.connect(server.port()));
    REQUIRE(tcp.send(upgrade_request()));
    RawFrameReader reader(tcp);
    REQUIRE(reader.read_upgrade());

    // A Hello that arrives a few bytes at a time.
    v1::ClientMessage hello = msg_hello_guest();
    hello.set_request_id(1);
    hello.mutable_hello()->set_omit_rooms(true);
    const std::string hello_frame = masked_frame(0x2, hello.SerializeAsString());
    for (std::size_t at = 0; at < hello_frame.size(); at += 5) {
        REQUIRE(tcp.send(std::string_view(hello_frame).substr(at, 5)));
        std::this_thread::sleep_for(5ms);
    }
    auto replies = reader.messages(1, 3s);
    REQUIRE(replies.size() == 1);
    REQUIRE(replies[0].has_welcome());

    // A join and three pings in one segment, then a post whose frame straddles two segments.
    std::string burst;
    v1::ClientMessage join = msg_join("lobby");
    join.set_request_id(2);
    burst += masked_frame(0x2, join.SerializeAsString());
    for (std::uint64_t id = 3; id <= 5; ++id) {
        v1::ClientMessage ping = msg_ping();
        ping.set_request_id(id);
        burst += masked_frame(0x2, ping.SerializeAsString());
    }
    v1::ClientMessage post = msg_post("lobby", std::string(300, 'p'));
    post.set_request_id(6);
    const std::string post_frame = masked_frame(0x2, post.SerializeAsString());
    burst += post_frame.substr(0, 100);
    REQUIRE(tcp.send(burst));
    std::this_thread::sleep_for(20ms);
    REQUIRE(tcp.send(std::string_view(post_frame).substr(100)));

    std::vector<std::uint64_t> answered;
    bool saw_post = false;
    for (const auto& message : reader.messages(7, 3s)) {
        if (message.request_id() != 0) answered.push_back(message.request_id());
        if (message.has_event() && message.event().has_posted()) {
            saw_post = message.event().posted().text() == std::string(300, 'p');
        }
    }
    // Every request is answered once. Pings are answered at once, the join and the post once
    // the room's owner has handled them, in the order they were sent.
    std::string seen;
    for (std::uint64_t id : answered) seen += std::to_string(id) + " ";
    CAPTURE(seen);
    CHECK(std::set<std::uint64_t>(answered.begin(), answered.end()) ==
          std::set<std::uint64_t>{2, 3, 4, 5, 6});
    CHECK(answered.size() == 5);
    const auto join_at = std::find(answered.begin(), answered.end(), 2u);
    const auto post_at = std::find(answered.begin(), answered.end(), 6u);
    CHECK(join_at < post_at);
    CHECK(saw_post);
}

}  // namespace
}  // namespace haven::test
