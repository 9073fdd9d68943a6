// The receiving half of a WebSocket connection's buffering, without the socket: where the
// bytes read wait until they make whole frames, and how they reach the frame reader. The
// session reads and hands over what it read; the unit tests hand over byte strings.
//
// Two kinds of connection use it:
// - shared storage (plain sockets): every read goes into the shard's read buffer, which all
//   its connections share; whole frames are handled where they lie there (receive()), and only
//   the unfinished start of a frame is copied here until the rest arrives. An idle connection
//   holds no buffer at all.
// - own storage (TLS): reads go into a buffer held here (prepare(), then commit()). It starts
//   at kInitialBuffer bytes, grows to hold a whole frame (limits.max_frame_bytes and its
//   header at most), doubles up to kBusyBuffer while reads keep filling it, and shrinks back
//   to kInitialBuffer once a read leaves it mostly empty.
//
// Bytes read with the upgrade request are handled first, when the connection opens. After a
// close frame or a protocol failure (see FrameHandler) what arrives is read and dropped, so
// the peer sees the close frame rather than a reset caused by unread data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>

#include "config/config.hpp"
#include "net/ws_frame_reader.hpp"

namespace haven::net::ws {

class ReceiveBuffer {
public:
    enum class Storage : std::uint8_t { shared, own };

    // Own storage: the buffer's size when it is idle, and how far a busy peer grows it. A
    // peer that fills the buffer with every read sends faster than one buffer per turn of the
    // loop (a busy publisher); a larger buffer lets one turn take more of its messages, so
    // their events reach the members in fewer, larger writes.
    static constexpr std::size_t kInitialBuffer = 512;
    static constexpr std::size_t kBusyBuffer = 16384;
    // The longest client frame header: 2 bytes, a 64-bit length and the mask.
    static constexpr std::size_t kMaxClientHeader = 14;

    // `limits.max_frame_bytes` bounds a message (see FrameReader) and so the buffer.
    ReceiveBuffer(Storage storage, const config::LimitsConfig& limits);

    // Keeps the bytes the HTTP reader had read past the upgrade request (the client's first
    // frames, sent in the same segment) until open(). Call at most once, before open().
    void hold_early_bytes(std::string_view bytes);
    // The connection is open: handles the early bytes, before anything read later. With own
    // storage, it also takes its buffer.
    void open(FrameHandler& handler);

    // Shared storage: handles the `size` bytes a read put at `data`, a buffer the caller
    // reuses once this returns (payloads are unmasked in place there).
    void receive(std::uint8_t* data, std::size_t size, FrameHandler& handler);

    // Own storage: where the next read goes, after the bytes kept; the buffer grows first when
    // they fill it, or when the last read filled it (a busy peer).
    boost::asio::mutable_buffer prepare();
    // Own storage: the read into prepare()'s buffer took `bytes`. Handles the whole frames.
    void commit(std::size_t bytes, FrameHandler& handler);

    // A close frame arrived or the protocol failed: nothing more is handled.
    bool stopped() const { return reader_.stopped(); }
    // Bytes kept: the start of a frame still arriving (until open(), the early bytes).
    std::size_t buffered() const { return buffered_; }
    // Bytes of buffer held.
    std::size_t capacity() const { return buffer_.size(); }

private:
    // Handles every complete frame in [data, data + size). Returns how many bytes that used:
    // the rest is the start of a frame still arriving.
    std::size_t read_frames(std::uint8_t* data, std::size_t size, FrameHandler& handler);
    // Moves the unhandled rest of buffer_ (after `used` bytes) to its front.
    void keep_rest(std::size_t used);
    void release();
    void grow_for(std::size_t needed);

    // Received bytes, [0, buffered_) valid; until open(), the early bytes.
    std::vector<std::uint8_t> buffer_;
    std::size_t buffered_ = 0;
    FrameReader reader_;
    const std::uint32_t frame_limit_;  // the largest frame, header included
    const Storage storage_;
    bool filled_ = false;  // own storage: the last read filled the buffer
};

}  // namespace haven::net::ws
