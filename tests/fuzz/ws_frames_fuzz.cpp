// Fuzzes the WebSocket frame reader: any bytes a client sends, in one read or split in two at
// an offset the input picks, are either messages and control frames or a protocol failure.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "net/ws_frame_reader.hpp"

namespace {

struct Sink final : haven::net::ws::FrameHandler {
    void on_message(std::string_view message, bool) override { bytes += message.size(); }
    void on_ping(std::string_view payload) override { bytes += payload.size(); }
    void on_pong(std::string_view payload) override { bytes += payload.size(); }
    void on_close(std::string_view payload) override { bytes += payload.size(); }
    void on_protocol_failure(haven::protocol::CloseCode) override { failed = true; }
    std::size_t bytes = 0;
    bool failed = false;
};

// Feeds `data` to a reader as a session would: used bytes leave, the rest waits for more.
void feed(haven::net::ws::FrameReader& reader, std::vector<std::uint8_t>& pending,
          const std::uint8_t* data, std::size_t size, Sink& sink) {
    pending.insert(pending.end(), data, data + size);
    const auto result = reader.process(pending.data(), pending.size(), sink);
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(result.used));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t cut = data[0] % size;
    haven::net::ws::FrameReader reader(64 * 1024);
    std::vector<std::uint8_t> pending;
    Sink sink;
    feed(reader, pending, data + 1, cut > 0 ? cut - 1 : 0, sink);
    if (!sink.failed)
        feed(reader, pending, data + (cut > 0 ? cut : 1), size - (cut > 0 ? cut : 1), sink);
    return 0;
}
