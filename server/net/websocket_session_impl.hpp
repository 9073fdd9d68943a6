// Over 400 lines: what remains is socket calls and the sending and closing states they move.
// The WebSocket session: the socket on one side, the transport-free ClientSession on the
// other. After the HTTP upgrade it speaks RFC 6455 itself: it parses client frames where they
// were read (net/ws_receive_buffer: plain connections read into their shard's buffer and keep
// only an unfinished frame's start; TLS ones use a small buffer of their own), and writes
// server frames pre-framed, many at a time (net/ws_outbound_queue): everything queued in one
// turn of the loop, or while a write is in flight, goes out in one gather write. This is
// where fan-out spends its time, and one write per frame (what a general-purpose WebSocket
// stream does) costs several times more per delivery.
//
// Lifetime: the session keeps itself alive through the shared_ptr bound into its pending
// operations; when reading ends, the ClientSession is told and leaves its Hub, and the object
// goes away with its last operation.
//
// States. Sending and reading move on separately, each only forward.
//
// Sending:
//   open             data frames are queued (also before the upgrade is answered)
//   slow_consumer    the queue overflowed: a 4008 close is posted; no more data frames
//   write_failed     a write failed: the socket is closed; no more data frames
//   close_queued     our close frame is queued; the peer's has not arrived
//   answering_close  the peer's close came first, and our answer is queued
//   close_written    our close frame is written: half-closed, reading until the peer's close
//                    or the close deadline
//   shut_down        both close frames are through: the socket is being shut down
//
//   open -> slow_consumer | write_failed                 (nothing more to queue but a close)
//   open | slow_consumer | write_failed -> close_queued      (we close, or the protocol failed)
//                                       -> answering_close   (the peer's close arrives)
//   close_queued -> close_written (it is written) | shut_down (the peer's close arrives)
//   close_written -> shut_down (the peer's close arrives)
//   answering_close -> shut_down (our answer is written)
//
// Reading:
//   handshake        the upgrade response is not yet written
//   frames           frames are read and handled
//   dropping         after the peer's close or a protocol failure: what arrives is read and
//                    dropped, so the peer sees our close rather than a reset
//   ended            the socket's read side ended; the ClientSession was told
//
//   handshake -> frames -> dropping;  frames | dropping -> ended
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/websocket_session.hpp"
#include "net/ws_frame_reader.hpp"
#include "net/ws_frames.hpp"
#include "net/ws_outbound_queue.hpp"
#include "net/ws_receive_buffer.hpp"
#include "session/client_session.hpp"

namespace haven::net {

namespace beast = boost::beast;
namespace asio = boost::asio;

template <class Stream>
class WebSocketSession final : public session::Connection,
                               public Flushable,
                               private ws::FrameHandler,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
public:
    WebSocketSession(Stream&& stream, NetContext& context, protocol::Encoding encoding,
                     core::AddressLimits::Lease address)
        : stream_(std::move(stream)),
          context_(context),
          address_(std::move(address)),
          chat_(context.chat, *this, encoding, address_.key()),
          data_opcode_(protocol::ws::data_opcode(encoding)),
          receive_(kPlain ? ws::ReceiveBuffer::Storage::shared : ws::ReceiveBuffer::Storage::own,
                   context.config.limits) {}

    // Answers the upgrade request: 101 and the accept key, or a refusal.
    // `subprotocol` is echoed (empty: the client offered none). `early_bytes` are what the
    // HTTP reader had already read past the request: the client's first frames, sent in the
    // same segment as the upgrade.
    void run(Request request, const std::string& subprotocol, std::string early_bytes) {
        receive_.hold_early_bytes(early_bytes);
        auto response = std::make_shared<UpgradeResponse>(upgrade_response(request, subprotocol));
        if (response->result() != beast::http::status::switching_protocols) {
            return refuse(std::move(response));
        }
        // A plain socket takes the short response into its empty send buffer at once; over
        // TLS the handshake's writes can stall, so they get the handshake timeout.
        if constexpr (!kPlain) {
            beast::get_lowest_layer(stream_).expires_after(
                std::chrono::milliseconds(context_.config.limits.handshake_timeout_ms));
        }
        beast::http::async_write(stream_, *response,
                                 [self = this->shared_from_this(), response](
                                     beast::error_code ec, std::size_t) { self->on_accept(ec); });
    }

    // ---- session::Connection ----------------------------------------------------------

    void send(protocol::Frame frame) override {
        if (!admit(frame->size(), 1)) return;
        queue_frame(data_opcode_, std::move(frame));
    }

    void send_batch(const protocol::FrameBatch& batch) override {
        if (batch.frames.empty() || !admit(batch.wire->size(), batch.frames.size())) return;
        queue_.push_framed(batch.frames.size(), batch.wire);
        schedule_flush();
    }

    // Whether `frames` more frames of `bytes` fit in the outbound queue. When they do not,
    // the client is too slow to keep up and the connection is closed (4008).
    bool admit(std::size_t bytes, std::size_t frames) {
        if (sending_ != Sending::open) return false;
        if (!queue_.fits(bytes, frames, context_.config.limits)) {
            // Too slow to keep up: close later (the caller may be walking a member list) and
            // let the client recover what it missed from history when it reconnects.
            auto& counters = context_.counters;
            counters.add(counters.slow_consumer_disconnects);
            asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
                self->close(protocol::CloseCode::slow_consumer);
            });
            sending_ = Sending::slow_consumer;
            return false;
        }
        return true;
    }

    void close(protocol::CloseCode code) override {
        if (sending_ >= Sending::close_queued) return;
        if (sending_ == Sending::slow_consumer) code = protocol::CloseCode::slow_consumer;
        // A client too slow to keep up loses what waits (it recovers from history); any
        // other close goes out after what was already said, e.g. the Error explaining it.
        if (code == protocol::CloseCode::slow_consumer) queue_.drop_unsent();
        send_close(code);
    }

    void tick(core::SteadyTime now) override {
        const bool open = reading_ == Reading::frames || reading_ == Reading::dropping;
        if (!open || sending_ >= Sending::close_queued) return;
        const auto upload_timeout =
            std::chrono::milliseconds(context_.config.limits.upload_timeout_ms);
        if (reading_ == Reading::frames && unfinished_since_ != core::SteadyTime{} &&
            now - unfinished_since_ >= upload_timeout) {
            // A frame trickled in to hold memory (or a link too slow for this server).
            context_.counters.refuse(core::Refusal::upload_timeout);
            return fail_protocol(protocol::CloseCode::policy_violation);
        }
        const auto idle = now - last_heard_;
        const auto timeout = std::chrono::milliseconds(context_.config.limits.idle_timeout_ms);
        if (idle >= timeout) {
            // Silent through a ping: the peer is gone or stuck; no handshake is possible.
            beast::error_code ignored;
            socket().close(ignored);
        } else if (idle >= timeout / 2 && !ping_outstanding_) {
            ping_outstanding_ = true;
            queue_frame(ws::ping, empty_payload());
        }
    }

private:
    enum class Sending : std::uint8_t {
        open,
        slow_consumer,
        write_failed,
        close_queued,
        answering_close,
        close_written,
        shut_down,
    };
    enum class Reading : std::uint8_t { handshake, frames, dropping, ended };

    // Plain connections hold the bare socket (no Beast stream with its timers: memory per idle
    // connection counts); TLS ones the SSL stream over a Beast TCP stream.
    static constexpr bool kPlain = std::is_same_v<Stream, PlainSocket>;

    decltype(auto) socket() {
        if constexpr (kPlain) {
            return (stream_);
        } else {
            return (beast::get_lowest_layer(stream_).socket());
        }
    }

    static protocol::Frame empty_payload() {
        static const protocol::Frame empty = std::make_shared<const std::string>();
        return empty;
    }

    void refuse(std::shared_ptr<UpgradeResponse> response) {
        response->keep_alive(false);
        beast::http::async_write(
            stream_, *response,
            [self = this->shared_from_this(), response](beast::error_code, std::size_t) {
                beast::error_code ignored;
                self->socket().close(ignored);
            });
    }

    void on_accept(beast::error_code ec) {
        if (ec) return fail(ec, "accept");
        if constexpr (kPlain) {
            beast::error_code ignored;
            socket().non_blocking(true, ignored);  // for write_now() and read_now()
        } else {
            beast::get_lowest_layer(stream_).expires_never();
        }
        reading_ = Reading::frames;
        last_heard_ = core::steady_now();
        chat_.on_open(last_heard_);
        receive_.open(*this);  // frames that arrived with the upgrade request come first
        do_read();
    }

    // ---- reading ----------------------------------------------------------------------
    //
    // Plain connections wait for readability and read into their shard's read buffer; TLS
    // connections read through their SSL stream into receive_'s own buffer. Either way
    // receive_ keeps what is not yet a whole frame and hands the rest to the frame reader.

    void do_read() {
        if constexpr (kPlain) {
            socket().async_wait(asio::socket_base::wait_read,
                                beast::bind_front_handler(&WebSocketSession::on_readable,
                                                          this->shared_from_this()));
        } else {
            stream_.async_read_some(
                receive_.prepare(),
                beast::bind_front_handler(&WebSocketSession::on_read, this->shared_from_this()));
        }
    }

    void on_readable(beast::error_code ec) {
        std::size_t bytes = 0;
        if (!ec) bytes = socket().read_some(asio::buffer(context_.scratch.read_buffer), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return do_read();
        if (ec) {
            fail(ec, "read");
            return finish();
        }
        last_heard_ = core::steady_now();
        receive_.receive(context_.scratch.read_buffer.data(), bytes, *this);
        track_unfinished_frame();
        do_read();
    }

    void on_read(beast::error_code ec, std::size_t bytes) {
        if (ec) {
            fail(ec, "read");
            return finish();
        }
        last_heard_ = core::steady_now();
        receive_.commit(bytes, *this);
        track_unfinished_frame();
        do_read();
    }

    // ---- ws::FrameHandler ---------------------------------------------------------------

    void on_message(std::string_view message, bool text) override {
        frame_finished_ = true;
        chat_.on_frame(message, text);
    }

    void on_ping(std::string_view payload) override {
        frame_finished_ = true;
        answer_ping(payload);
    }

    void on_pong(std::string_view) override {
        frame_finished_ = true;
        ping_outstanding_ = false;
    }

    // After each read: when the frame still arriving began (for limits.upload_timeout_ms),
    // and the memory it holds, counted against its address (limits.address_buffer_bytes).
    // The small rest of a frame a read ends inside is normal and not counted.
    void track_unfinished_frame() {
        if (receive_.stopped()) {
            unfinished_since_ = {};
            address_.hold_buffered(0);  // what arrives now is dropped, not kept
            return;
        }
        if (receive_.buffered() == 0) {
            unfinished_since_ = {};
        } else if (frame_finished_ || unfinished_since_ == core::SteadyTime{}) {
            unfinished_since_ = last_heard_;
        }
        frame_finished_ = false;
        const std::size_t held =
            receive_.capacity() > ws::ReceiveBuffer::kBusyBuffer ? receive_.capacity() : 0;
        if (!address_.hold_buffered(held)) {
            context_.counters.refuse(core::Refusal::address_buffer);
            fail_protocol(protocol::CloseCode::too_big);
        }
    }

    void on_close(std::string_view payload) override { on_close_frame(payload); }

    void on_protocol_failure(protocol::CloseCode code) override { fail_protocol(code); }

    // A pong counts against the outbound bounds like any frame, and only the latest ping is
    // answered: a peer that pings without reading holds one pong, not one per ping.
    void answer_ping(std::string_view payload) {
        if (sending_ != Sending::open) return;
        auto pong = std::make_shared<const std::string>(payload);
        if (queue_.replace_waiting_pong(pong)) return;  // already due to be written
        if (!admit(pong->size(), 1)) return;
        queue_.push_pong(std::move(pong));
        schedule_flush();
    }

    void on_close_frame(std::string_view payload) {
        reading_ = Reading::dropping;
        if (sending_ >= Sending::close_queued) {
            // Our close was answered: the handshake is complete.
            return shut_down();
        }
        queue_.drop_unsent();
        send_close(static_cast<protocol::CloseCode>(ws::close_reply(payload)),
                   Sending::answering_close);
    }

    void fail_protocol(protocol::CloseCode code) {
        reading_ = Reading::dropping;
        queue_.drop_unsent();
        send_close(code);
    }

    // ---- writing ----------------------------------------------------------------------

    void queue_frame(std::uint8_t opcode, protocol::Frame payload) {
        queue_.push(opcode, std::move(payload));
        schedule_flush();
    }

    void schedule_flush() {
        // Written at the end of this turn of the loop, with whatever else arrives meanwhile;
        // while a write is in flight, with the next one.
        if (writing_ || flush_scheduled_) return;
        flush_scheduled_ = true;
        context_.batcher.add(this->shared_from_this());
    }

    void flush() override {
        flush_scheduled_ = false;
        if (writing_ || queue_.empty()) return;
        if constexpr (kPlain) {
            // Most batches fit in the socket buffer at once: write them now, without the cost
            // of an asynchronous operation; only what does not fit waits for one.
            if (write_now()) return;
        }
        do_write();
    }

    // One non-blocking write of what is queued. True when nothing is left to write.
    bool write_now() {
        // The write completes (or not) before this returns: the shard's scratch list will do.
        std::vector<asio::const_buffer>& gather = context_.scratch.gather;
        queue_.gather(gather);
        beast::error_code ec;
        const std::size_t written = socket().write_some(gather, ec);
        if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
            on_write_failed(ec);
            return true;
        }
        queue_.consume(written);
        if (!queue_.empty()) return false;
        after_drained();
        return true;
    }

    void do_write() {
        writing_ = true;
        if (!async_write_) async_write_ = std::make_unique<AsyncWrite>();
        queue_.gather_in_flight(async_write_->buffers, async_write_->headers);
        asio::async_write(
            stream_, async_write_->buffers,
            beast::bind_front_handler(&WebSocketSession::on_write, this->shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        writing_ = false;
        queue_.complete_in_flight();
        if (ec) return on_write_failed(ec);
        if (!queue_.empty()) return do_write();
        async_write_.reset();  // idle again: no memory kept for the next one
        after_drained();
    }

    void on_write_failed(beast::error_code ec) {
        fail(ec, "write");
        if (sending_ == Sending::open) sending_ = Sending::write_failed;
        queue_.clear();
        beast::error_code ignored;
        socket().close(ignored);  // the read side ends and finishes the session
    }

    // Everything queued is written: finish a close handshake that was waiting for it.
    void after_drained() {
        if (sending_ == Sending::answering_close) return shut_down();
        if (sending_ != Sending::close_queued) return;
        sending_ = Sending::close_written;
        // Nothing more to send: half-close now, read until the peer closes too, but not for
        // ever.
        beast::error_code ignored;
        socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        arm_close_deadline();
    }

    // Queues our close frame, unless one is already; `next` says whether it answers the peer's.
    void send_close(protocol::CloseCode code, Sending next = Sending::close_queued) {
        if (sending_ >= Sending::close_queued) return;
        sending_ = next;
        const auto value = static_cast<std::uint16_t>(code);
        auto payload = std::make_shared<std::string>();
        payload->push_back(static_cast<char>(value >> 8));
        payload->push_back(static_cast<char>(value & 0xFF));
        queue_frame(ws::close, std::move(payload));
    }

    void shut_down() {
        if (sending_ == Sending::shut_down) return;
        sending_ = Sending::shut_down;
        if (close_timer_) close_timer_->cancel();
        if constexpr (!kPlain) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                beast::error_code ignored;
                self->socket().close(ignored);
            });
        } else {
            beast::error_code ignored;
            socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            socket().close(ignored);
        }
    }

    // A peer that stops reading never completes the close handshake; cut the socket after a
    // grace period so its resources come back.
    void arm_close_deadline() {
        if (close_timer_) return;
        close_timer_ = std::make_unique<asio::steady_timer>(stream_.get_executor());
        close_timer_->expires_after(std::chrono::seconds(5));
        close_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return;
            beast::error_code ignored;
            self->socket().close(ignored);
        });
    }

    void finish() {
        if (reading_ == Reading::ended) return;
        reading_ = Reading::ended;
        if (close_timer_) close_timer_->cancel();
        chat_.on_closed();
    }

    void fail(beast::error_code ec, const char* what) {
        // Normal endings: the peer closed, we closed, a timeout fired, or the TLS peer left
        // without close_notify (browsers do). None is worth more than a debug line.
        if (ec == asio::error::operation_aborted || ec == beast::error::timeout ||
            ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
            ec == asio::error::connection_reset || ec == asio::error::bad_descriptor ||
            ec == asio::error::broken_pipe) {
            spdlog::debug("websocket {}: {}", what, ec.message());
            return;
        }
        spdlog::info("websocket session {} {}: {}", chat_.id(), what, ec.message());
    }

    Stream stream_;
    NetContext& context_;
    core::AddressLimits::Lease address_;  // before chat_, which is given its key
    session::ClientSession chat_;
    const std::uint8_t data_opcode_;

    ws::ReceiveBuffer receive_;

    ws::OutboundQueue queue_;
    // What an asynchronous write in progress points at (only while one is).
    struct AsyncWrite {
        std::vector<asio::const_buffer> buffers;
        std::vector<protocol::ws::ServerHeader> headers;
    };
    std::unique_ptr<AsyncWrite> async_write_;
    bool writing_ = false;
    bool flush_scheduled_ = false;

    Sending sending_ = Sending::open;  // see the top of the file
    Reading reading_ = Reading::handshake;
    bool ping_outstanding_ = false;
    core::SteadyTime last_heard_{};
    core::SteadyTime unfinished_since_{};              // a frame is arriving since; epoch: none is
    bool frame_finished_ = false;                      // a frame was handled since the last read
    std::unique_ptr<asio::steady_timer> close_timer_;  // only while closing
};

template <class Stream>
void launch_websocket_session(Stream stream, Request request, NetContext& context,
                              protocol::Encoding encoding, std::string subprotocol,
                              std::string early_bytes, core::AddressLimits::Lease address) {
    std::make_shared<WebSocketSession<Stream>>(std::move(stream), context, encoding,
                                               std::move(address))
        ->run(std::move(request), subprotocol, std::move(early_bytes));
}

}  // namespace haven::net
