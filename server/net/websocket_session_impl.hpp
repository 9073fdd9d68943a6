// The WebSocket session: Beast's stream on one side, the transport-free ClientSession on the
// other. It owns the one outbound queue of the connection and keeps one write in flight.
//
// Lifetime: the session keeps itself alive through the shared_ptr bound into its pending
// operations; when the read loop ends, the ClientSession is told and removes itself from the
// Hub, and the object goes away with its last operation.
#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "net/websocket_session.hpp"
#include "session/client_session.hpp"

namespace haven::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

template <class Stream>
class WebSocketSession final : public session::Connection,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
public:
    WebSocketSession(Stream&& stream, NetContext& context, protocol::Encoding encoding,
                     std::string subprotocol)
        : ws_(std::move(stream)),
          context_(context),
          chat_(context.hub, *this, encoding),
          encoding_(encoding),
          subprotocol_(std::move(subprotocol)) {}

    void run(Request request) {
        const config::LimitsConfig& limits = context_.config.limits;
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = std::chrono::milliseconds(limits.handshake_timeout_ms);
        // Beast pings a connection that has been silent for half of this, and drops it when
        // the whole period passes without a byte from the peer.
        timeouts.idle_timeout = std::chrono::milliseconds(limits.idle_timeout_ms);
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [subprotocol = subprotocol_](websocket::response_type& response) {
                response.set(beast::http::field::server, "haven");
                if (!subprotocol.empty()) {
                    response.set(beast::http::field::sec_websocket_protocol, subprotocol);
                }
            }));
        ws_.read_message_max(limits.max_frame_bytes);
        ws_.binary(encoding_ == protocol::Encoding::binary);
        ws_.async_accept(request, beast::bind_front_handler(&WebSocketSession::on_accept,
                                                            this->shared_from_this()));
    }

    // ---- session::Connection ----------------------------------------------------------

    void send(protocol::Frame frame) override {
        if (closing_) return;
        const config::LimitsConfig& limits = context_.config.limits;
        // An empty queue always takes one frame, however large (a Joined with long recent
        // posts); the limit is about a client falling behind, not about one big reply.
        if (!queue_.empty() && (queue_.size() >= limits.outbound_queue_messages ||
                                queued_bytes_ + frame->size() > limits.outbound_queue_bytes)) {
            // Too slow to keep up: close later (the caller may be walking a member list) and
            // let the client recover what it missed from history when it reconnects.
            auto& counters = context_.hub.counters();
            counters.add(counters.slow_consumer_disconnects);
            boost::asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
                self->close(protocol::CloseCode::slow_consumer);
            });
            drop_queued();
            closing_ = true;
            forced_close_ = protocol::CloseCode::slow_consumer;
            return;
        }
        queued_bytes_ += frame->size();
        queue_.push_back(std::move(frame));
        if (!writing_) do_write();
    }

    void close(protocol::CloseCode code) override {
        if (close_started_) return;
        if (forced_close_) code = *forced_close_;
        closing_ = true;
        drop_queued();
        if (writing_) {
            pending_close_ = code;  // sent when the write in flight completes
        } else {
            do_close(code);
        }
        arm_close_deadline();
    }

private:
    void on_accept(beast::error_code ec) {
        if (ec) return fail(ec, "accept");
        chat_.on_open(core::steady_now());
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, beast::bind_front_handler(&WebSocketSession::on_read,
                                                          this->shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) {
            fail(ec, "read");
            return finish();
        }
        const auto data = buffer_.cdata();
        chat_.on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()),
                       ws_.got_text());
        buffer_.consume(buffer_.size());
        do_read();
    }

    void do_write() {
        writing_ = true;
        const protocol::Frame& frame = queue_.front();
        ws_.async_write(
            boost::asio::buffer(*frame),
            beast::bind_front_handler(&WebSocketSession::on_write, this->shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        writing_ = false;
        if (ec) {
            fail(ec, "write");
            drop_queued();
            closing_ = true;
            return;  // the read loop ends too and finishes the session
        }
        if (!queue_.empty()) {
            queued_bytes_ -= queue_.front()->size();
            queue_.pop_front();
        }
        if (pending_close_) {
            const protocol::CloseCode code = *pending_close_;
            pending_close_.reset();
            return do_close(code);
        }
        if (!queue_.empty()) do_write();
    }

    void do_close(protocol::CloseCode code) {
        close_started_ = true;
        ws_.async_close(websocket::close_reason(static_cast<std::uint16_t>(code)),
                        [self = this->shared_from_this()](beast::error_code ec) {
                            if (ec) self->fail(ec, "close");
                        });
    }

    // A peer that stops reading never completes the close handshake; cut the socket after a
    // grace period so its resources come back.
    void arm_close_deadline() {
        if (close_timer_) return;
        close_timer_.emplace(ws_.get_executor());
        close_timer_->expires_after(std::chrono::seconds(5));
        close_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return;
            beast::error_code ignored;
            beast::get_lowest_layer(self->ws_).socket().close(ignored);
        });
    }

    void drop_queued() {
        // The frame being written must stay alive until its write completes.
        while (queue_.size() > (writing_ ? 1u : 0u)) {
            queued_bytes_ -= queue_.back()->size();
            queue_.pop_back();
        }
    }

    void finish() {
        if (close_timer_) close_timer_->cancel();
        chat_.on_closed();
    }

    void fail(beast::error_code ec, const char* what) {
        // Normal endings: the peer closed, we closed, a timeout fired, or the TLS peer left
        // without close_notify (browsers do). None is worth more than a debug line.
        if (ec == websocket::error::closed || ec == boost::asio::error::operation_aborted ||
            ec == beast::error::timeout || ec == boost::asio::error::eof ||
            ec == boost::asio::ssl::error::stream_truncated ||
            ec == boost::asio::error::connection_reset) {
            spdlog::debug("websocket {}: {}", what, ec.message());
            return;
        }
        spdlog::info("websocket session {} {}: {}", chat_.id(), what, ec.message());
    }

    websocket::stream<Stream> ws_;
    beast::flat_buffer buffer_;
    NetContext& context_;
    session::ClientSession chat_;
    const protocol::Encoding encoding_;
    std::string subprotocol_;

    std::deque<protocol::Frame> queue_;  // front is the frame being written
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool closing_ = false;        // no more frames are queued
    bool close_started_ = false;  // async_close has been called
    std::optional<protocol::CloseCode> pending_close_;
    std::optional<protocol::CloseCode> forced_close_;
    std::optional<boost::asio::steady_timer> close_timer_;
};

template <class Stream>
void launch_websocket_session(Stream stream, Request request, NetContext& context,
                              protocol::Encoding encoding, std::string subprotocol) {
    std::make_shared<WebSocketSession<Stream>>(std::move(stream), context, encoding,
                                               std::move(subprotocol))
        ->run(std::move(request));
}

}  // namespace haven::net
