// A WebSocket peer built by hand on a raw TCP connection, for tests that decide exactly which
// bytes go into which segment: the upgrade followed at once by frames, ping floods, close
// frames with any code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "haven.pb.h"
#include "support/ws_client.hpp"

namespace haven::test {

// The upgrade request of a binary-protobuf session.
std::string upgrade_request();

// A masked client frame (payloads up to 65,535 bytes).
std::string masked_frame(std::uint8_t opcode, std::string_view payload);

// One server frame as it came off the wire.
struct ServerFrame {
    std::uint8_t opcode = 0;
    std::string payload;
};

// Reads the server's frames off a raw connection: `pending` holds bytes read but not used yet.
class RawFrameReader {
public:
    explicit RawFrameReader(RawTcp& tcp) : tcp_(tcp) {}
    // Reads the 101 response; false when the upgrade was not accepted in time.
    bool read_upgrade(Millis timeout = kDefaultWait);
    // The next whole frame, or nothing when none arrives in time (or the peer closed).
    std::optional<ServerFrame> next(Millis timeout = kDefaultWait);
    // Up to `count` protobuf messages (skipping control frames), within the timeout.
    std::vector<v1::ServerMessage> messages(std::size_t count, Millis timeout = kDefaultWait);

private:
    std::optional<ServerFrame> take();

    RawTcp& tcp_;
    std::string pending_;
};

// Connects (from `source_address` when set), sends the upgrade request and REQUIREs the 101.
void open_upgraded(RawTcp& tcp, RawFrameReader& reader, std::uint16_t port,
                   const std::string& source_address = {});

}  // namespace haven::test
