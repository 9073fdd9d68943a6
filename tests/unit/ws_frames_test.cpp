#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "net/ws_frames.hpp"
#include "unit/client_frames.hpp"

using namespace haven::net;
using haven::test::client_frame;

namespace {}  // namespace

TEST_CASE("the accept key follows RFC 6455's example") {
    CHECK(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    CHECK_FALSE(ws::valid_client_key(""));
    CHECK_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ"));
    CHECK_FALSE(ws::valid_client_key("!!!!IHNhbXBsZSBub25jZQ=="));
    CHECK_FALSE(ws::valid_client_key("dGhNhbXFsZSBub25jZQ==Q=="));  // padding inside (upgrade_fuzz)
}

TEST_CASE("client frames of every length form parse and unmask") {
    for (std::size_t size : {0u, 5u, 125u, 126u, 1000u, 65535u, 65536u, 70000u}) {
        CAPTURE(size);
        const std::string payload(size, 'x');
        auto bytes = client_frame(0x82, payload);
        ws::FrameHeader header;
        REQUIRE(ws::parse_client_header(bytes.data(), bytes.size(), header) ==
                ws::ParseResult::complete);
        CHECK(header.fin);
        CHECK(header.opcode == ws::binary);
        CHECK(header.payload_size == size);
        CHECK(header.header_size + size == bytes.size());
        ws::unmask(bytes.data() + header.header_size, size, header.mask);
        CHECK(std::string(bytes.begin() + static_cast<std::ptrdiff_t>(header.header_size),
                          bytes.end()) == payload);
        // Any shorter prefix of the header asks for more.
        for (std::size_t cut = 0; cut < header.header_size; ++cut) {
            ws::FrameHeader partial;
            CHECK(ws::parse_client_header(bytes.data(), cut, partial) ==
                  ws::ParseResult::need_more);
        }
    }
}

TEST_CASE("protocol violations are refused") {
    ws::FrameHeader header;
    const auto check = [&](std::vector<std::uint8_t> bytes) {
        return ws::parse_client_header(bytes.data(), bytes.size(), header);
    };
    auto unmasked = client_frame(0x81, "hi");
    unmasked[1] &= 0x7F;
    CHECK(check(unmasked) == ws::ParseResult::protocol_error);
    CHECK(check(client_frame(0xC1, "hi")) == ws::ParseResult::protocol_error);  // RSV1
    CHECK(check(client_frame(0x83, "hi")) == ws::ParseResult::protocol_error);  // opcode 3
    CHECK(check(client_frame(0x09, "hi")) == ws::ParseResult::protocol_error);  // fragmented ping
    CHECK(check(client_frame(0x89, std::string(126, 'p'))) == ws::ParseResult::protocol_error);
    // A 16-bit length that would have fitted in 7 bits is not in its shortest form.
    std::vector<std::uint8_t> long_form{0x82, 0x80 | 126, 0, 5, 1, 2, 3, 4};
    CHECK(check(long_form) == ws::ParseResult::protocol_error);
}

TEST_CASE("random bytes never crash the header parser") {
    std::mt19937 rng(42);
    std::vector<std::uint8_t> bytes(16);
    for (int round = 0; round < 20000; ++round) {
        for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
        ws::FrameHeader header;
        const auto result = ws::parse_client_header(bytes.data(), rng() % 17, header);
        if (result == ws::ParseResult::complete) CHECK(header.header_size <= 14);
    }
}

TEST_CASE("close frames are answered with a code a peer may send, or 1002 / 1007") {
    const auto body = [](std::uint16_t code, std::string_view reason = {}) {
        std::string payload;
        payload.push_back(static_cast<char>(code >> 8));
        payload.push_back(static_cast<char>(code & 0xFF));
        payload += reason;
        return payload;
    };
    CHECK(ws::close_reply("") == 1000);
    CHECK(ws::close_reply(std::string_view("\x03", 1)) == 1002);  // a one-byte body
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1011, 1014, 3000, 4000, 4999}) {
        CAPTURE(code);
        CHECK(ws::close_reply(body(code, "bye")) == code);
    }
    // Reserved for the local side (1005, 1006, 1015), unassigned or out of range.
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
        CAPTURE(code);
        CHECK(ws::close_reply(body(code)) == 1002);
    }
    CHECK(ws::close_reply(body(1000, "\xff\xfe")) == 1007);  // a reason that is not UTF-8
}
