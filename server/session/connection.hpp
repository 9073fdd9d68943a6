// What the chat logic sees of a client's transport: a queue of immutable frames and a way to
// close. The WebSocket session in net/ implements it; tests implement it with a recorder.
#pragma once

#include "core/clock.hpp"
#include "protocol/close_codes.hpp"
#include "protocol/codec.hpp"
#include "protocol/frame_batch.hpp"

namespace haven::session {

class Connection {
public:
    virtual ~Connection() = default;
    // Queues a frame for writing. Must not call back into the chat logic: when the queue
    // overflows, the implementation schedules the close (4008) instead of closing inline,
    // because the caller may be walking a room's member list.
    virtual void send(protocol::Frame frame) = 0;
    // Queues several frames at once. A WebSocket transport writes the batch's shared wire
    // bytes; others (the tests' recorders) may take the frames one by one, as here.
    virtual void send_batch(const protocol::FrameBatch& batch) {
        for (const protocol::Frame& frame : batch.frames) send(frame);
    }
    // Starts a close handshake with `code`; the chat logic learns of the end through
    // ClientSession::on_closed. Safe to call more than once.
    virtual void close(protocol::CloseCode code) = 0;
    // Housekeeping from the shard's sweep (several times per idle timeout): a transport pings
    // a silent peer and drops one that stays silent.
    virtual void tick(core::SteadyTime now) { (void)now; }
};

}  // namespace haven::session
