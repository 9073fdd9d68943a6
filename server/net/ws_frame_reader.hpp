// The reading half of a WebSocket connection, without the socket: client bytes in, messages
// and control frames out. It parses and unmasks frames where they lie in the caller's buffer,
// assembles fragmented messages, enforces the message size limit and checks that text
// messages are UTF-8. The session feeds it what it reads and acts on what it reports; the
// unit tests feed it bytes directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/ws_frames.hpp"
#include "protocol/close_codes.hpp"

namespace haven::net::ws {

// What the reader reports, in the order the frames arrived. Views point into the buffer
// given to FrameReader::process (unfragmented messages, control frames) or into the
// reader's own assembly of a fragmented message; both are valid only during the call.
class FrameHandler {
public:
    virtual ~FrameHandler() = default;
    virtual void on_message(std::string_view message, bool text) = 0;
    virtual void on_ping(std::string_view payload) = 0;
    virtual void on_pong(std::string_view payload) = 0;
    // The peer's close frame. Nothing after it is read.
    virtual void on_close(std::string_view payload) = 0;
    // The peer broke the protocol; the connection is to be closed with `code` (1002 for
    // framing errors, 1007 for text that is not UTF-8, 1009 for a message over the limit).
    // Nothing after it is read.
    virtual void on_protocol_failure(protocol::CloseCode code) = 0;
};

class FrameReader {
public:
    // `max_message_bytes` bounds a data frame and a whole fragmented message alike.
    explicit FrameReader(std::uint32_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

    struct Result {
        // Bytes of whole frames handled; the rest of the input is the start of a frame still
        // arriving, to be given again (with more after it) in the next call.
        std::size_t used = 0;
        // When the frame after `used` has a complete header but not all of its payload: the
        // frame's whole size, so a caller reading into a buffer of its own can make room for
        // it. Zero otherwise.
        std::size_t needed = 0;
    };

    // Handles every complete frame in [data, data + size), unmasking their payloads in place.
    // After a close frame or a protocol failure it handles nothing more, now or later.
    Result process(std::uint8_t* data, std::size_t size, FrameHandler& handler);

    // A close frame arrived or the protocol failed: the rest of the input is not read.
    bool stopped() const { return stopped_; }

private:
    std::size_t assembled() const { return fragments_ ? fragments_->size() : 0; }
    void on_frame(const FrameHeader& header, std::string_view payload, FrameHandler& handler);
    void on_message(std::string_view message, FrameHandler& handler);
    void fail(protocol::CloseCode code, FrameHandler& handler);

    std::unique_ptr<std::string> fragments_;  // a fragmented message being assembled
    std::uint32_t max_message_bytes_;
    bool in_message_ = false;  // between a message's first frame and its final one
    bool message_text_ = false;
    bool stopped_ = false;
};

}  // namespace haven::net::ws
