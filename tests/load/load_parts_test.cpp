// The load generator's hand-written parts checked against the real thing: posts it encodes by
// hand must parse with the generated protobuf classes, and server messages built with those
// classes must be read correctly by its walker; client frames must unmask to the payload and
// server frames of every length form must parse; the histogram's quantiles must stay within
// its stated precision.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "haven.pb.h"
#include "latency_histogram.hpp"
#include "wire.hpp"
#include "ws_framing.hpp"

namespace load = haven::load;
namespace v1 = haven::v1;

TEST_CASE("a hand-encoded post parses as the same ClientMessage") {
    const std::string text(300, 'x');  // a text whose length needs a two-byte varint
    std::vector<char> buffer(load::wire::post_bytes_bound(6, text.size()));
    const std::size_t n =
        load::wire::encode_post(buffer.data(), 123456789, "load-7", text, 0x0123456789abcdefULL);
    v1::ClientMessage message;
    REQUIRE(message.ParseFromArray(buffer.data(), static_cast<int>(n)));
    CHECK(message.request_id() == 123456789);
    REQUIRE(message.has_post());
    CHECK(message.post().room_id() == "load-7");
    CHECK(message.post().text() == text);
    CHECK(message.post().client_msg_id() == "0123456789abcdef");
}

TEST_CASE("the walker reads a posted event's seq and publish stamp") {
    v1::ServerMessage message;
    v1::Event* event = message.mutable_event();
    event->set_room_id("load-0");
    event->set_seq(4242);
    event->set_time_ms(1700000000000);
    v1::Posted* posted = event->mutable_posted();
    posted->mutable_author()->set_handle("Quiet Heron");
    posted->mutable_author()->set_member_id("m17");
    posted->set_text("hello");
    posted->set_client_msg_id("00000000075bcd15");  // 123456789
    const std::string bytes = message.SerializeAsString();
    const load::wire::Summary s = load::wire::summarize(bytes.data(), bytes.size());
    CHECK(s.kind == load::wire::Kind::event_posted);
    CHECK(s.seq == 4242);
    CHECK(s.sent_ns == 123456789);

    posted->set_client_msg_id("from-a-browser");
    const std::string other = message.SerializeAsString();
    CHECK(load::wire::summarize(other.data(), other.size()).sent_ns == -1);
}

TEST_CASE("the walker tells replies apart") {
    v1::ServerMessage joined;
    joined.set_request_id(load::wire::kJoinId);
    joined.mutable_joined()->set_last_seq(77);
    joined.mutable_joined()->add_members()->set_handle("a");
    std::string bytes = joined.SerializeAsString();
    load::wire::Summary s = load::wire::summarize(bytes.data(), bytes.size());
    CHECK(s.kind == load::wire::Kind::joined);
    CHECK(s.request_id == load::wire::kJoinId);
    CHECK(s.seq == 77);

    v1::ServerMessage error;
    error.set_request_id(99);
    error.mutable_error()->set_code(v1::RATE_LIMITED);
    error.mutable_error()->set_message("slow down");
    bytes = error.SerializeAsString();
    s = load::wire::summarize(bytes.data(), bytes.size());
    CHECK(s.kind == load::wire::Kind::error);
    CHECK(s.error_code == v1::RATE_LIMITED);
    CHECK(load::wire::describe_error(s.body) == "RATE_LIMITED: slow down");

    v1::ServerMessage presence;
    presence.mutable_event()->mutable_member_joined()->mutable_member()->set_handle("b");
    bytes = presence.SerializeAsString();
    CHECK(load::wire::summarize(bytes.data(), bytes.size()).kind == load::wire::Kind::event_other);

    const char garbage[] = {'\x0a', '\x7f', 'x'};  // a length running past the end
    CHECK(load::wire::summarize(garbage, sizeof garbage).kind == load::wire::Kind::malformed);
}

TEST_CASE("client frames are masked and server frames of every length form parse") {
    for (std::size_t size : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
        std::string payload(size, '\0');
        for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7);
        std::vector<char> frame(size + load::ws::kMaxClientHeader);
        const std::size_t n = load::ws::write_client_frame(frame.data(), load::ws::binary,
                                                           payload.data(), size, 0xA1B2C3D4u);
        CHECK(static_cast<unsigned char>(frame[0]) == 0x82);
        CHECK((static_cast<unsigned char>(frame[1]) & 0x80) != 0);  // mask bit
        const std::size_t header = n - size;
        std::string unmasked(size, '\0');
        for (std::size_t i = 0; i < size; ++i) {
            unmasked[i] = static_cast<char>(frame[header + i] ^ frame[header - 4 + (i & 3)]);
        }
        CHECK(unmasked == payload);

        // The same frame as a server would send it: no mask bit, no key.
        std::vector<char> server(frame.begin(), frame.begin() + static_cast<long>(header - 4));
        server[1] = static_cast<char>(server[1] & 0x7F);
        server.insert(server.end(), payload.begin(), payload.end());
        load::ws::FrameHeader parsed;
        REQUIRE(load::ws::parse_frame_header(server.data(), server.size(), parsed) ==
                load::ws::ParseResult::ok);
        CHECK(parsed.fin);
        CHECK(parsed.opcode == load::ws::binary);
        CHECK(parsed.payload_bytes == size);
        CHECK(parsed.header_bytes + size == server.size());
        if (parsed.header_bytes > 2) {
            CHECK(load::ws::parse_frame_header(server.data(), parsed.header_bytes - 1, parsed) ==
                  load::ws::ParseResult::need_more);
        }
    }
    const char masked_from_server[] = {'\x82', '\x81', 0, 0, 0, 0, 'x'};
    load::ws::FrameHeader parsed;
    CHECK(load::ws::parse_frame_header(masked_from_server, sizeof masked_from_server, parsed) ==
          load::ws::ParseResult::protocol_error);
}

TEST_CASE("the upgrade response is checked") {
    std::size_t head = 0;
    std::string why;
    const std::string ok =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: "
        "haven.v1.proto\r\n\r\n";
    CHECK(load::ws::parse_upgrade_response(ok + "\x82\x00", head, why) ==
          load::ws::UpgradeStatus::accepted);
    CHECK(head == ok.size());
    CHECK(load::ws::parse_upgrade_response(ok.substr(0, 40), head, why) ==
          load::ws::UpgradeStatus::incomplete);
    CHECK(load::ws::parse_upgrade_response("HTTP/1.1 400 Bad Request\r\n\r\n", head, why) ==
          load::ws::UpgradeStatus::refused);
}

TEST_CASE("histogram quantiles stay within the bucket precision") {
    load::LatencyHistogram h;
    for (int us = 1; us <= 100000; ++us) h.record_ns(std::int64_t{us} * 1000);
    CHECK(h.count() == 100000);
    CHECK(h.max_us() == 100000);
    const auto within = [](std::uint64_t got, double want) {
        return static_cast<double>(got) >= want && static_cast<double>(got) <= want * 1.07;
    };
    CHECK(within(h.quantile_us(0.5), 50000));
    CHECK(within(h.quantile_us(0.99), 99000));
    CHECK(within(h.quantile_us(0.999), 99900));
    CHECK(h.quantile_us(1.0) == 100000);
    load::LatencyHistogram small;
    small.record_ns(40'000);
    CHECK(small.quantile_us(0.5) == 40);
}
