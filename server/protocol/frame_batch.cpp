#include "protocol/frame_batch.hpp"

#include <memory>
#include <utility>

namespace haven::protocol {

namespace ws {

ServerHeader server_header(std::uint8_t opcode, std::uint64_t payload_size) {
    ServerHeader header;
    header.bytes[0] = static_cast<std::uint8_t>(0x80 | opcode);
    if (payload_size < 126) {
        header.bytes[1] = static_cast<std::uint8_t>(payload_size);
        header.size = 2;
    } else if (payload_size <= 0xFFFF) {
        header.bytes[1] = 126;
        header.bytes[2] = static_cast<std::uint8_t>(payload_size >> 8);
        header.bytes[3] = static_cast<std::uint8_t>(payload_size);
        header.size = 4;
    } else {
        header.bytes[1] = 127;
        for (int i = 0; i < 8; ++i) {
            header.bytes[static_cast<std::size_t>(2 + i)] =
                static_cast<std::uint8_t>(payload_size >> (8 * (7 - i)));
        }
        header.size = 10;
    }
    return header;
}

std::string server_frames(std::uint8_t opcode, const std::vector<Frame>& payloads) {
    std::size_t total = 0;
    for (const auto& payload : payloads) total += payload->size() + sizeof(ServerHeader::bytes);
    std::string out;
    out.reserve(total);
    for (const auto& payload : payloads) {
        const ServerHeader header = server_header(opcode, payload->size());
        out.append(reinterpret_cast<const char*>(header.bytes.data()), header.size);
        out += *payload;
    }
    return out;
}

}  // namespace ws

FrameBatch make_frame_batch(std::vector<Frame> frames, Encoding encoding) {
    FrameBatch batch;
    batch.frames = std::move(frames);
    batch.wire = std::make_shared<const std::string>(
        ws::server_frames(ws::data_opcode(encoding), batch.frames));
    return batch;
}

}  // namespace haven::protocol
