#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/frame_batch.hpp"

using namespace haven::protocol;

namespace {

Frame frame(std::string text) {
    return std::make_shared<const std::string>(std::move(text));
}

std::string header_bytes(const ws::ServerHeader& header) {
    return std::string(reinterpret_cast<const char*>(header.bytes.data()), header.size);
}

}  // namespace

TEST_CASE("server headers use the shortest length form") {
    CHECK(ws::server_header(ws::text, 0).size == 2);
    CHECK(ws::server_header(ws::text, 125).size == 2);
    CHECK(ws::server_header(ws::binary, 126).size == 4);
    CHECK(ws::server_header(ws::binary, 65535).size == 4);
    const auto big = ws::server_header(ws::binary, 65536);
    CHECK(big.size == 10);
    CHECK(big.bytes[0] == 0x82);
    CHECK(big.bytes[1] == 127);
    CHECK(big.bytes[7] == 1);
    CHECK(big.bytes[8] == 0);
    const auto medium = ws::server_header(ws::pong, 300);
    CHECK(header_bytes(medium) == std::string("\x8a\x7e\x01\x2c", 4));
}

TEST_CASE("server frames are the payloads, each behind its header, back to back") {
    const std::vector<Frame> payloads{frame("one"), frame(""), frame(std::string(200, 'x'))};
    std::string expected;
    for (const Frame& payload : payloads) {
        expected += header_bytes(ws::server_header(ws::binary, payload->size())) + *payload;
    }
    CHECK(ws::server_frames(ws::binary, payloads) == expected);
    CHECK(ws::server_frames(ws::text, {}).empty());
}

TEST_CASE("a frame batch keeps its frames and frames them once for its encoding") {
    const std::vector<Frame> frames{frame("first"), frame("second")};
    for (const Encoding encoding : {Encoding::binary, Encoding::json}) {
        CAPTURE(static_cast<int>(encoding));
        const ws::Opcode opcode = encoding == Encoding::json ? ws::text : ws::binary;
        CHECK(ws::data_opcode(encoding) == opcode);
        const FrameBatch batch = make_frame_batch(frames, encoding);
        CHECK(batch.frames == frames);  // the same shared frames, in order
        REQUIRE(batch.wire);
        CHECK(*batch.wire == ws::server_frames(opcode, frames));
        CHECK(static_cast<unsigned char>((*batch.wire)[0]) == (0x80 | opcode));
    }
    const FrameBatch empty = make_frame_batch({}, Encoding::binary);
    CHECK(empty.frames.empty());
    REQUIRE(empty.wire);
    CHECK(empty.wire->empty());
}
