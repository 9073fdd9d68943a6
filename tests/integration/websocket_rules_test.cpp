// RFC 6455 at the edges, over hand-made frames: what a client sends with its upgrade request,
// how close frames are answered, and what a ping flood costs the server.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "integration/helpers.hpp"
#include "integration/raw_websocket.hpp"

namespace haven::test {
namespace {

// The server's resident memory in KiB, from /proc.
std::size_t resident_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
    }
    return 0;
}

std::string close_body(std::uint16_t code, std::string_view reason = {}) {
    std::string body;
    body.push_back(static_cast<char>(code >> 8));
    body.push_back(static_cast<char>(code & 0xFF));
    body += reason;
    return body;
}

std::string hello_frame(std::uint64_t request_id) {
    v1::ClientMessage hello = msg_hello_guest();
    hello.set_request_id(request_id);
    hello.mutable_hello()->set_omit_rooms(true);
    return masked_frame(0x2, hello.SerializeAsString());
}

TEST_CASE("frames sent in the same segment as the upgrade request are read") {
    ServerProcess server;
    require_started(server);
    RawTcp tcp;
    REQUIRE(tcp.connect(server.port()));
    // The request, a ping and a Hello, in one write.
    REQUIRE(tcp.send(upgrade_request() + masked_frame(0x9, "early") + hello_frame(1)));
    RawFrameReader reader(tcp);
    REQUIRE(reader.read_upgrade());
    auto pong = reader.next();
    REQUIRE(pong);
    CHECK(pong->opcode == 0xA);
    CHECK(pong->payload == "early");
    auto replies = reader.messages(1);
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].has_welcome());
    CHECK(replies[0].request_id() == 1);
}

TEST_CASE("close frames: a code a peer may send is echoed, anything else is a protocol error") {
    ServerProcess server;
    require_started(server);
    struct Case {
        std::string body;
        std::uint16_t reply;
    };
    const Case cases[] = {
        {"", 1000},
        {close_body(1000, "bye"), 1000},
        {close_body(1001), 1001},
        {close_body(4000), 4000},
        {std::string(1, '\x03'), 1002},  // a one-byte body
        {close_body(0), 1002},
        {close_body(1005), 1002},
        {close_body(1006), 1002},
        {close_body(1015), 1002},
        {close_body(5000), 1002},
        {close_body(1000, "\xff\xfe"), 1007},  // a reason that is not UTF-8
    };
    for (const Case& c : cases) {
        CAPTURE(c.body.size());
        CAPTURE(c.reply);
        RawTcp tcp;
        REQUIRE(tcp.connect(server.port()));
        REQUIRE(tcp.send(upgrade_request()));
        RawFrameReader reader(tcp);
        REQUIRE(reader.read_upgrade());
        REQUIRE(tcp.send(masked_frame(0x8, c.body)));
        std::optional<ServerFrame> frame;
        while ((frame = reader.next()) && frame->opcode != 0x8) {
        }
        REQUIRE(frame);
        REQUIRE(frame->payload.size() >= 2);
        const auto code =
            static_cast<std::uint16_t>(static_cast<unsigned char>(frame->payload[0]) << 8 |
                                       static_cast<unsigned char>(frame->payload[1]));
        CHECK(code == c.reply);
    }
}

TEST_CASE("a peer that pings without reading holds one pong, not one per ping") {
    ServerProcess server;
    require_started(server);
    RawTcp tcp;
    REQUIRE(tcp.connect(server.port()));
    REQUIRE(tcp.send(upgrade_request()));
    RawFrameReader reader(tcp);
    REQUIRE(reader.read_upgrade());
    REQUIRE(tcp.send(hello_frame(1)));
    REQUIRE(reader.messages(1).size() == 1);

    const std::size_t before_kib = resident_kib(server.pid());
    // 400,000 pings of 120 bytes (~50 MB), never reading: once the socket buffers are full,
    // every pong would have to wait in the server.
    constexpr int kPings = 400000;
    const std::string filler(112, 'p');
    std::string batch;
    std::string last_payload;
    for (int i = 0; i < kPings; ++i) {
        char number[9];
        std::snprintf(number, sizeof number, "%08d", i);
        last_payload = number + filler;
        batch += masked_frame(0x9, last_payload);
        if (batch.size() > 256 * 1024 || i + 1 == kPings) {
            REQUIRE(tcp.send(batch));
            batch.clear();
        }
    }
    std::this_thread::sleep_for(300ms);
    const std::size_t after_kib = resident_kib(server.pid());
    CAPTURE(before_kib);
    CAPTURE(after_kib);
    if (!sanitized_server()) CHECK(after_kib < before_kib + 24 * 1024);

    // Reading again, the last pong answers the last ping, and the session still works.
    REQUIRE(tcp.send(masked_frame(0x2, [] {
        v1::ClientMessage ping = msg_ping();
        ping.set_request_id(2);
        return ping.SerializeAsString();
    }())));
    std::string last_pong;
    bool answered = false;
    while (auto frame = reader.next(5s)) {
        if (frame->opcode == 0xA) last_pong = frame->payload;
        if (frame->opcode == 0x2) {
            v1::ServerMessage message;
            if (message.ParseFromString(frame->payload) && message.request_id() == 2) {
                answered = true;
                break;
            }
        }
    }
    CHECK(answered);
    CHECK(last_pong == last_payload);
}

}  // namespace
}  // namespace haven::test
