#include "integration/raw_websocket.hpp"

#include <chrono>

#include <doctest/doctest.h>

namespace haven::test {

using Clock = std::chrono::steady_clock;

std::string upgrade_request() {
    return "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Protocol: haven.v1.proto\r\n\r\n";
}

std::string masked_frame(std::uint8_t opcode, std::string_view payload) {
    std::string frame;
    frame.push_back(static_cast<char>(0x80 | opcode));
    if (payload.size() < 126) {
        frame.push_back(static_cast<char>(0x80 | payload.size()));
    } else {
        frame.push_back(static_cast<char>(0x80 | 126));
        frame.push_back(static_cast<char>(payload.size() >> 8));
        frame.push_back(static_cast<char>(payload.size() & 0xFF));
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(mask, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) frame.push_back(payload[i] ^ mask[i % 4]);
    return frame;
}

bool RawFrameReader::read_upgrade(Millis timeout) {
    const auto deadline = Clock::now() + timeout;
    while (pending_.find("\r\n\r\n") == std::string::npos) {
        if (Clock::now() >= deadline) return false;
        const std::string more = tcp_.read_some(4096, std::chrono::milliseconds(100));
        pending_ += more;
    }
    if (pending_.rfind("HTTP/1.1 101", 0) != 0) return false;
    pending_.erase(0, pending_.find("\r\n\r\n") + 4);
    return true;
}

std::optional<ServerFrame> RawFrameReader::take() {
    if (pending_.size() < 2) return std::nullopt;
    std::size_t length = static_cast<unsigned char>(pending_[1]) & 0x7F;
    std::size_t header = 2;
    if (length == 126) {
        if (pending_.size() < 4) return std::nullopt;
        length = static_cast<std::size_t>(static_cast<unsigned char>(pending_[2])) << 8 |
                 static_cast<unsigned char>(pending_[3]);
        header = 4;
    } else if (length == 127) {
        if (pending_.size() < 10) return std::nullopt;
        length = 0;
        for (std::size_t i = 2; i < 10; ++i) {
            length = length << 8 | static_cast<unsigned char>(pending_[i]);
        }
        header = 10;
    }
    if (pending_.size() < header + length) return std::nullopt;
    ServerFrame frame;
    frame.opcode = static_cast<std::uint8_t>(pending_[0] & 0x0F);
    frame.payload = pending_.substr(header, length);
    pending_.erase(0, header + length);
    return frame;
}

std::optional<ServerFrame> RawFrameReader::next(Millis timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        if (auto frame = take()) return frame;
        if (Clock::now() >= deadline) return std::nullopt;
        const std::string more = tcp_.read_some(65536, std::chrono::milliseconds(50));
        pending_ += more;
    }
}

std::vector<v1::ServerMessage> RawFrameReader::messages(std::size_t count, Millis timeout) {
    std::vector<v1::ServerMessage> out;
    const auto deadline = Clock::now() + timeout;
    while (out.size() < count) {
        const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
        if (left.count() <= 0) break;
        auto frame = next(left);
        if (!frame) break;
        if (frame->opcode != 0x2) continue;
        v1::ServerMessage message;
        if (message.ParseFromString(frame->payload)) out.push_back(std::move(message));
    }
    return out;
}

void open_upgraded(RawTcp& tcp, RawFrameReader& reader, std::uint16_t port,
                   const std::string& source_address) {
    REQUIRE(tcp.connect(port, kDefaultWait, source_address));
    REQUIRE(tcp.send(upgrade_request()));
    REQUIRE(reader.read_upgrade());
}

}  // namespace haven::test
