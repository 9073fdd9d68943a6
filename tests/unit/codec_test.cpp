#include <doctest/doctest.h>

#include "protocol/codec.hpp"

using namespace haven;
using protocol::Encoding;

namespace {

v1::ClientMessage sample_post() {
    v1::ClientMessage message;
    message.set_request_id(42);
    v1::Post* post = message.mutable_post();
    post->set_room_id("lobby");
    post->set_text("hello, ünïcödé 🌱");
    post->set_client_msg_id("c-1");
    post->set_content_warning("loss");
    return message;
}

}  // namespace

TEST_CASE("client messages round-trip in both encodings") {
    for (Encoding encoding : {Encoding::binary, Encoding::json}) {
        CAPTURE(static_cast<int>(encoding));
        const std::string bytes = protocol::encode_client(sample_post(), encoding);
        v1::ClientMessage decoded;
        REQUIRE(protocol::decode_client(bytes, encoding, decoded));
        CHECK(decoded.request_id() == 42);
        REQUIRE(decoded.has_post());
        CHECK(decoded.post().text() == "hello, ünïcödé 🌱");
        CHECK(decoded.post().content_warning() == "loss");
    }
}

TEST_CASE("the JSON encoding is protobuf's JSON mapping with camelCase names") {
    const std::string json = protocol::encode_client(sample_post(), Encoding::json);
    CHECK(json.find("\"requestId\":\"42\"") != std::string::npos);
    CHECK(json.find("\"clientMsgId\":\"c-1\"") != std::string::npos);
    v1::ClientMessage decoded;
    REQUIRE(protocol::decode_client(
        R"({"requestId": 7, "join": {"roomId": "lobby", "sinceSeq": "12"}})", Encoding::json,
        decoded));
    CHECK(decoded.request_id() == 7);
    CHECK(decoded.join().room_id() == "lobby");
    CHECK(decoded.join().since_seq() == 12);
}

TEST_CASE("server messages encode once and decode in both encodings") {
    v1::ServerMessage message;
    message.mutable_event()->set_room_id("lobby");
    message.mutable_event()->set_seq(9);
    message.mutable_event()->mutable_posted()->set_text("hi");
    for (Encoding encoding : {Encoding::binary, Encoding::json}) {
        protocol::Frame frame = protocol::encode_server_frame(message, encoding);
        v1::ServerMessage decoded;
        REQUIRE(protocol::decode_server(*frame, encoding, decoded));
        CHECK(decoded.event().seq() == 9);
        CHECK(decoded.event().posted().text() == "hi");
    }
}

TEST_CASE("malformed input is rejected without throwing") {
    v1::ClientMessage out;
    CHECK_FALSE(protocol::decode_client("\xff\xff\xff\xff", Encoding::binary, out));
    CHECK_FALSE(protocol::decode_client("{not json", Encoding::json, out));
    CHECK_FALSE(protocol::decode_client(R"({"post": {"text": 5}})", Encoding::json, out));
    CHECK_FALSE(protocol::decode_client("[]", Encoding::json, out));
    // A string field holding invalid UTF-8 fails the binary parse.
    v1::ClientMessage invalid_text;
    std::string raw;
    // ClientMessage.post (field 13, length-delimited) containing Post.text (field 2) = C3 28.
    const std::string post_bytes = std::string("\x12\x02\xc3\x28", 4);
    raw.push_back(static_cast<char>((13 << 3) | 2));
    raw.push_back(static_cast<char>(post_bytes.size()));
    raw += post_bytes;
    CHECK_FALSE(protocol::decode_client(raw, Encoding::binary, invalid_text));
}

TEST_CASE("unknown JSON fields are ignored and leave the body unset") {
    v1::ClientMessage out;
    REQUIRE(protocol::decode_client(R"({"requestId": 3, "teleport": {"to": "mars"}})",
                                    Encoding::json, out));
    CHECK(out.body_case() == v1::ClientMessage::BODY_NOT_SET);
}
