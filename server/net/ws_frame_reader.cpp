#include "net/ws_frame_reader.hpp"

#include "protocol/utf8.hpp"

namespace haven::net::ws {

FrameReader::Result FrameReader::process(std::uint8_t* data, std::size_t size,
                                         FrameHandler& handler) {
    Result result;
    while (!stopped_) {
        FrameHeader header;
        const auto parsed = parse_client_header(data + result.used, size - result.used, header);
        if (parsed == ParseResult::need_more) break;
        if (parsed == ParseResult::protocol_error) {
            fail(protocol::CloseCode::protocol_error, handler);
            break;
        }
        // Checked on the header, before the payload arrives: a peer announcing too much is
        // refused without being buffered.
        if (!is_control(header.opcode) && assembled() + header.payload_size > max_message_bytes_) {
            fail(protocol::CloseCode::too_big, handler);
            break;
        }
        const std::size_t frame_size = header.header_size + header.payload_size;
        if (size - result.used < frame_size) {
            result.needed = frame_size;
            break;
        }
        std::uint8_t* payload = data + result.used + header.header_size;
        unmask(payload, header.payload_size, header.mask);
        on_frame(header,
                 std::string_view(reinterpret_cast<const char*>(payload), header.payload_size),
                 handler);
        result.used += frame_size;
    }
    return result;
}

void FrameReader::on_frame(const FrameHeader& header, std::string_view payload,
                           FrameHandler& handler) {
    switch (header.opcode) {
        case ping:
            return handler.on_ping(payload);
        case pong:
            return handler.on_pong(payload);
        case close:
            stopped_ = true;
            return handler.on_close(payload);
        case continuation:
            if (!in_message_) return fail(protocol::CloseCode::protocol_error, handler);
            break;
        default:  // text or binary
            if (in_message_) return fail(protocol::CloseCode::protocol_error, handler);
            in_message_ = true;
            message_text_ = header.opcode == text;
            break;
    }
    if (header.fin && assembled() == 0) {
        // An unfragmented message (nearly all of them): handed over where it lies.
        in_message_ = false;
        return on_message(payload, handler);
    }
    if (!fragments_) fragments_ = std::make_unique<std::string>();
    fragments_->append(payload);
    if (!header.fin) return;
    in_message_ = false;
    // Fragmented messages are rare: no memory is kept for them between messages.
    const std::unique_ptr<std::string> message = std::move(fragments_);
    on_message(*message, handler);
}

void FrameReader::on_message(std::string_view message, FrameHandler& handler) {
    if (message_text_ && !protocol::utf8_length(message)) {
        return fail(protocol::CloseCode::invalid_payload, handler);
    }
    handler.on_message(message, message_text_);
}

void FrameReader::fail(protocol::CloseCode code, FrameHandler& handler) {
    stopped_ = true;
    handler.on_protocol_failure(code);
}

}  // namespace haven::net::ws
