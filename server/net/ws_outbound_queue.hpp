// The writing half of a WebSocket connection, without the socket: the server frames waiting
// to be written, with their headers, the bounds that decide when a client is too slow, and
// what of them a write took. The session asks it for a gather list, writes, and reports
// back; the unit tests do the same with simulated writes.
//
// Two kinds of write use it. A direct (non-blocking) write: gather(), write, consume(bytes
// written), which may leave the first frame partly written. An asynchronous write:
// gather_in_flight(), then complete_in_flight() when it finishes; entries queued meanwhile
// wait for the next write, and the in-flight ones are never dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <boost/asio/buffer.hpp>

#include "config/config.hpp"
#include "net/frame_queue.hpp"
#include "net/ws_frames.hpp"
#include "protocol/codec.hpp"
#include "protocol/frame_batch.hpp"

namespace haven::net::ws {

class OutboundQueue {
public:
    // At most this many entries go into one write.
    static constexpr std::size_t kMaxFramesPerWrite = 256;

    bool empty() const { return queue_.empty(); }
    std::size_t entries() const { return queue_.size(); }
    std::size_t bytes() const { return queued_bytes_; }    // payload bytes queued
    std::size_t frames() const { return queued_frames_; }  // a batch entry counts its frames

    // Whether `frames` more frames of `bytes` fit within `limits` (outbound_queue_bytes,
    // outbound_queue_messages; passed in rather than kept, since every connection has a queue).
    // An empty queue always takes one frame or batch, however large (a Joined with long recent
    // posts): the bounds are about a client falling behind, not about one big reply.
    bool fits(std::size_t bytes, std::size_t frames, const config::LimitsConfig& limits) const;

    // Queues one unfragmented frame.
    void push(std::uint8_t opcode, protocol::Frame payload);
    // Queues frames already framed, back to back in `wire`.
    void push_framed(std::size_t frames, protocol::Frame wire);
    // Queues a pong that a later ping may still replace (see replace_waiting_pong).
    void push_pong(protocol::Frame payload);
    // Only the latest ping is answered (RFC 6455 5.5.3): while a pong waits with no write
    // having taken it, a newer ping's payload replaces its own. False when no pong waits.
    bool replace_waiting_pong(const protocol::Frame& payload);

    // Points `gather` at up to kMaxFramesPerWrite entries, minus what of the first one was
    // already written, for a direct write. Returns the number of entries covered.
    std::size_t gather(std::vector<boost::asio::const_buffer>& gather);
    // Removes what a direct write of `bytes` covered from the front.
    void consume(std::size_t bytes);

    // Like gather(), for an asynchronous write: the headers are copied to `header_copies`
    // and gathered from there, since entries queued while the write is in flight may move
    // the queue's. The entries covered are in flight until complete_in_flight().
    void gather_in_flight(std::vector<boost::asio::const_buffer>& gather,
                          std::vector<protocol::ws::ServerHeader>& header_copies);
    // The asynchronous write ended (written or failed): its entries are taken off.
    void complete_in_flight();

    // Drops entries no write has taken; those in flight stay, and so does a first entry
    // partly written already (a frame cut off would corrupt the stream).
    void drop_unsent();
    // Drops everything (the socket failed: nothing more will be written).
    void clear();

private:
    // A frame with its header, or frames already framed (empty header).
    struct Entry {
        protocol::ws::ServerHeader header;
        std::uint32_t frames = 1;
        protocol::Frame payload;
    };

    void push_entry(const protocol::ws::ServerHeader& header, std::size_t frames,
                    protocol::Frame payload);
    std::size_t gather_into(std::vector<boost::asio::const_buffer>& gather,
                            std::vector<protocol::ws::ServerHeader>* header_copies);
    void pop_front();

    FrameQueue<Entry> queue_;     // the first in_flight_ are being written
    std::size_t in_flight_ = 0;   // entries handed to the asynchronous write in progress
    std::size_t front_sent_ = 0;  // bytes of the first entry already written directly
    std::size_t queued_bytes_ = 0;
    std::size_t queued_frames_ = 0;
    // Entries ever taken off the front: queue_[n - popped_] is the n-th entry ever queued.
    std::uint64_t popped_ = 0;
    std::optional<std::uint64_t> waiting_pong_;  // a queued pong no write has taken yet
};

}  // namespace haven::net::ws
