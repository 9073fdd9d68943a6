#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "net/ws_receive_buffer.hpp"
#include "unit/client_frames.hpp"
#include "unit/frame_recorder.hpp"

using namespace haven::net;
using haven::test::client_frame;
using haven::test::concat;
using Storage = ws::ReceiveBuffer::Storage;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Events = std::vector<std::string>;

constexpr std::uint8_t kFin = 0x80;

haven::config::LimitsConfig limits_with(std::uint32_t max_frame_bytes) {
    haven::config::LimitsConfig limits;
    limits.max_frame_bytes = max_frame_bytes;
    return limits;
}

// Plays the session: early bytes, then reads, as a socket would give them. A plain
// connection's reads land in a shard buffer reused for every read; a TLS connection's in
// the buffer's own, as much as prepare() has room for.
class Connection {
public:
    Connection(Storage storage, const haven::config::LimitsConfig& limits, const Bytes& early = {})
        : storage_(storage), buffer_(storage, limits) {
        buffer_.hold_early_bytes(std::string(early.begin(), early.end()));
        buffer_.open(recorder_);
        note();
    }

    void read(const Bytes& bytes) { read(bytes.data(), bytes.size()); }

    void read(const std::uint8_t* data, std::size_t size) {
        if (storage_ == Storage::shared) {
            shard_buffer_.assign(data, data + size);
            shard_buffer_.resize(64 * 1024, 0xEE);  // what other connections read there
            buffer_.receive(shard_buffer_.data(), size, recorder_);
            note();
            return;
        }
        while (size > 0) {
            const boost::asio::mutable_buffer space = buffer_.prepare();
            REQUIRE(space.size() > 0);
            const std::size_t taken = std::min(space.size(), size);
            std::memcpy(space.data(), data, taken);
            buffer_.commit(taken, recorder_);
            note();
            data += taken;
            size -= taken;
        }
    }

    const Events& events() const { return recorder_.events; }
    const ws::ReceiveBuffer& buffer() const { return buffer_; }
    std::size_t largest() const { return largest_; }  // the most buffer ever held

private:
    void note() {
        largest_ = std::max(largest_, buffer_.capacity());
        CHECK(buffer_.buffered() <= buffer_.capacity());
        // A plain connection holds just the unfinished frame, and nothing between frames.
        if (storage_ == Storage::shared) CHECK(buffer_.capacity() == buffer_.buffered());
        if (buffer_.stopped()) CHECK(buffer_.buffered() == 0);
    }

    Storage storage_;
    ws::ReceiveBuffer buffer_;
    haven::test::FrameRecorder recorder_;
    Bytes shard_buffer_;
    std::size_t largest_ = 0;
};

Bytes slice(const Bytes& bytes, std::size_t from, std::size_t to) {
    return Bytes(bytes.begin() + static_cast<std::ptrdiff_t>(from),
                 bytes.begin() + static_cast<std::ptrdiff_t>(to));
}

// The same events however the input is cut in two: two reads, or early bytes and a read.
void check_every_split(Storage storage, const Bytes& bytes, const Events& expected,
                       const haven::config::LimitsConfig& limits = {}) {
    // A plain connection holds at most one unfinished frame; a TLS one may also have grown
    // for a busy peer.
    const std::size_t bound =
        std::max<std::size_t>(limits.max_frame_bytes + ws::ReceiveBuffer::kMaxClientHeader,
                              storage == Storage::own ? ws::ReceiveBuffer::kBusyBuffer : 0);
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        INFO("cut at " << cut);
        Connection reads(storage, limits);
        reads.read(slice(bytes, 0, cut));
        reads.read(slice(bytes, cut, bytes.size()));
        REQUIRE(reads.events() == expected);
        CHECK(reads.largest() <= bound);

        Connection early(storage, limits, slice(bytes, 0, cut));
        early.read(slice(bytes, cut, bytes.size()));
        REQUIRE(early.events() == expected);
        CHECK(early.largest() <= bound);
    }
}

}  // namespace

TEST_CASE("the receive buffer hands over the same messages wherever a read ends") {
    const std::string medium(300, 'm');  // a 16-bit length
    const std::string large(3000, 'L');  // more than a TLS connection's idle buffer
    const Bytes bytes = concat({
        client_frame(kFin | ws::text, "hello"),
        client_frame(kFin | ws::binary, medium),
        client_frame(ws::text, "frag"),
        client_frame(kFin | ws::ping, "are you there"),
        client_frame(kFin | ws::continuation, "mented"),
        client_frame(kFin | ws::binary, large),
        client_frame(kFin | ws::text, ""),
        client_frame(kFin | ws::close, "\x03\xe8"),
    });
    const Events expected{"text:hello",      "binary:" + medium, "ping:are you there",
                          "text:fragmented", "binary:" + large,  "text:",
                          "close:\x03\xe8"};
    for (const Storage storage : {Storage::shared, Storage::own}) {
        CAPTURE(static_cast<int>(storage));
        check_every_split(storage, bytes, expected);
    }
}

TEST_CASE("a plain connection keeps only an unfinished frame, and no buffer between frames") {
    const auto limits = limits_with(1024);
    const Bytes whole =
        concat({client_frame(kFin | ws::text, "one"), client_frame(kFin | ws::text, "two")});
    Connection connection(Storage::shared, limits);
    connection.read(whole);
    CHECK(connection.buffer().capacity() == 0);

    const Bytes next = client_frame(kFin | ws::binary, std::string(200, 'x'));
    connection.read(concat({client_frame(kFin | ws::text, "three"), slice(next, 0, 50)}));
    CHECK(connection.buffer().buffered() == 50);
    connection.read(slice(next, 50, 120));
    CHECK(connection.buffer().buffered() == 120);
    connection.read(slice(next, 120, next.size()));
    CHECK(connection.buffer().capacity() == 0);
    CHECK(connection.events() ==
          Events{"text:one", "text:two", "text:three", "binary:" + std::string(200, 'x')});
}

TEST_CASE("early bytes are handled when the connection opens, before any read") {
    for (const Storage storage : {Storage::shared, Storage::own}) {
        CAPTURE(static_cast<int>(storage));
        ws::ReceiveBuffer buffer(storage, limits_with(1024));
        haven::test::FrameRecorder recorder;
        const Bytes early = client_frame(kFin | ws::text, "with the upgrade");
        buffer.hold_early_bytes(std::string(early.begin(), early.end()));
        CHECK(recorder.events.empty());  // held, not handled
        CHECK(buffer.buffered() == early.size());
        buffer.open(recorder);
        CHECK(recorder.events == Events{"text:with the upgrade"});
        CHECK(buffer.buffered() == 0);
        CHECK(buffer.capacity() ==
              (storage == Storage::own ? ws::ReceiveBuffer::kInitialBuffer : 0));
    }
}

TEST_CASE("a TLS connection's buffer grows for a whole frame up to the limit, then shrinks") {
    const haven::config::LimitsConfig limits;  // the defaults
    const std::size_t limit = limits.max_frame_bytes + ws::ReceiveBuffer::kMaxClientHeader;
    const std::string biggest(limits.max_frame_bytes, 'b');
    Connection connection(Storage::own, limits);
    CHECK(connection.buffer().capacity() == ws::ReceiveBuffer::kInitialBuffer);
    connection.read(client_frame(kFin | ws::binary, biggest));
    CHECK(connection.events() == Events{"binary:" + biggest});
    CHECK(connection.largest() > ws::ReceiveBuffer::kBusyBuffer);
    CHECK(connection.largest() <= limit);
    // Quiet again: a read that leaves the buffer mostly empty gives the memory back.
    connection.read(client_frame(kFin | ws::text, "small"));
    CHECK(connection.buffer().capacity() == ws::ReceiveBuffer::kInitialBuffer);
    CHECK(connection.events().back() == "text:small");
}

TEST_CASE("a frame over limits.max_frame_bytes is refused on its header, never buffered") {
    const auto limits = limits_with(1000);
    for (const Storage storage : {Storage::shared, Storage::own}) {
        CAPTURE(static_cast<int>(storage));
        check_every_split(storage, client_frame(kFin | ws::binary, std::string(1000, 'x')),
                          {"binary:" + std::string(1000, 'x')}, limits);
        const Bytes too_big = client_frame(kFin | ws::binary, std::string(1001, 'x'));
        Connection connection(storage, limits);
        connection.read(slice(too_big, 0, 8));  // the header alone
        CHECK(connection.events() == Events{"fail:1009"});
        CHECK(connection.buffer().stopped());
        connection.read(slice(too_big, 8, too_big.size()));  // read and dropped
        CHECK(connection.events() == Events{"fail:1009"});
        CHECK(connection.buffer().buffered() == 0);
        if (storage == Storage::shared) CHECK(connection.largest() == 0);
    }
}

TEST_CASE("a busy TLS peer's reads grow the buffer up to kBusyBuffer") {
    // Reads that fill the buffer every time: many small frames, more than any buffer holds.
    Bytes stream;
    std::size_t messages = 0;
    while (stream.size() < 200 * 1024) {
        const Bytes frame = client_frame(kFin | ws::binary, std::string(100, 'p'));
        stream.insert(stream.end(), frame.begin(), frame.end());
        ++messages;
    }
    ws::ReceiveBuffer buffer(Storage::own, haven::config::LimitsConfig{});
    haven::test::FrameRecorder recorder;
    buffer.open(recorder);
    std::vector<std::size_t> sizes;
    std::size_t from = 0;
    while (from < stream.size()) {
        const boost::asio::mutable_buffer space = buffer.prepare();
        sizes.push_back(buffer.capacity());
        const std::size_t taken = std::min(space.size(), stream.size() - from);
        std::memcpy(space.data(), stream.data() + from, taken);
        buffer.commit(taken, recorder);
        from += taken;
    }
    CHECK(recorder.events.size() == messages);
    REQUIRE(sizes.size() > 6);
    CHECK(std::vector<std::size_t>(sizes.begin(), sizes.begin() + 6) ==
          std::vector<std::size_t>{512, 1024, 2048, 4096, 8192, 16384});
    CHECK(*std::max_element(sizes.begin(), sizes.end()) == ws::ReceiveBuffer::kBusyBuffer);
    // The last read did not fill it: back to the idle size.
    CHECK(buffer.capacity() == ws::ReceiveBuffer::kInitialBuffer);
}

TEST_CASE("after a close frame or a protocol failure the rest is read and dropped") {
    for (const Storage storage : {Storage::shared, Storage::own}) {
        CAPTURE(static_cast<int>(storage));
        Connection closed(
            storage, limits_with(1024),
            concat({client_frame(kFin | ws::close, ""), client_frame(kFin | ws::text, "unread")}));
        closed.read(client_frame(kFin | ws::text, "later"));
        CHECK(closed.events() == Events{"close:"});
        CHECK(closed.buffer().buffered() == 0);

        Connection failed(storage, limits_with(1024));
        failed.read(concat(
            {client_frame(kFin | ws::text, "\xff"), client_frame(kFin | ws::ping, "unanswered")}));
        failed.read(client_frame(kFin | ws::text, "later"));
        CHECK(failed.events() == Events{"fail:1007"});
        CHECK(failed.buffer().buffered() == 0);
        if (storage == Storage::shared) CHECK(failed.buffer().capacity() == 0);
    }
}

TEST_CASE("with the smallest frame limit a TLS buffer never shrinks under the bytes it holds") {
    // limits.max_frame_bytes may be as low as 256, below the idle buffer: growing for one
    // frame must never make the buffer smaller than what it already holds.
    const auto limits = limits_with(256);
    Bytes bytes;
    for (int i = 0; i < 60; ++i) {
        const Bytes frame = client_frame(kFin | ws::binary, std::string(20, 's'));
        bytes.insert(bytes.end(), frame.begin(), frame.end());
    }
    const Bytes last = client_frame(kFin | ws::binary, std::string(250, 'e'));
    bytes.insert(bytes.end(), last.begin(), last.end());
    Events expected(60, "binary:" + std::string(20, 's'));
    expected.push_back("binary:" + std::string(250, 'e'));
    for (std::size_t cut = 1; cut < bytes.size(); cut += 7) {
        INFO("cut at " << cut);
        Connection connection(Storage::own, limits);
        connection.read(slice(bytes, 0, bytes.size() - cut));
        CHECK(connection.buffer().capacity() >= ws::ReceiveBuffer::kInitialBuffer);
        connection.read(slice(bytes, bytes.size() - cut, bytes.size()));
        CHECK(connection.buffer().capacity() >= ws::ReceiveBuffer::kInitialBuffer);
        REQUIRE(connection.events() == expected);
    }
}
