// A small synchronous WebSocket client for integration tests and tools: it speaks Haven's wire
// protocol to a real server, in either encoding, over ws:// or wss://.
//
// Beast stays out of this header (pimpl), so code that includes it compiles quickly. Every
// call that waits takes a timeout and never blocks longer than that: the client runs its own
// io_context only inside its calls, with run_one_for, and a test that never calls receive()
// therefore behaves like a peer that stops reading (it answers no pings either).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "haven.pb.h"
#include "protocol/codec.hpp"

namespace haven::test {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

inline constexpr Millis kDefaultWait = 3s;

struct ConnectOptions {
    // Offered in Sec-WebSocket-Protocol; empty = send no such header (the server then speaks
    // binary protobuf).
    std::string subprotocol = std::string(protocol::kBinarySubprotocol);
    std::optional<std::string> origin;  // Origin header, when set
    bool tls = false;  // wss://; the server's certificate is not verified (self-signed)
    // SO_RCVBUF applied before connecting, to simulate a slow reader. The kernel doubles it
    // and enforces a minimum.
    std::optional<int> receive_buffer_bytes;
    std::string host = "127.0.0.1";
    // The local address to connect from (any 127.x.y.z is this machine): another client
    // address as the server's per-address limits see it. Empty: the system's choice.
    std::string source_address;
    // Sent with the upgrade request, e.g. X-Forwarded-For as a proxy would add it.
    std::map<std::string, std::string> extra_headers;
    std::string target = "/ws";
    Millis timeout = kDefaultWait;  // TCP connect + TLS + upgrade, together
};

struct ConnectResult {
    bool ok = false;
    unsigned http_status = 0;  // the status of a refused upgrade; 101 when accepted
    std::string error;         // what went wrong, for test output
    explicit operator bool() const { return ok; }
};

// One raw frame as received.
struct Frame {
    std::string bytes;
    bool text = false;
};

class WsClient {
public:
    WsClient();
    ~WsClient();  // drops the TCP connection without a close handshake
    WsClient(WsClient&&) noexcept;
    WsClient& operator=(WsClient&&) noexcept;
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    ConnectResult connect(std::uint16_t port, const ConnectOptions& options = {});

    // True between a successful connect and the end of the connection (as far as this client
    // has observed it: a close the server sent is only seen by a receive call).
    bool is_open() const;
    protocol::Encoding encoding() const;
    const std::string& negotiated_subprotocol() const;

    // Sends in the session's encoding: a binary frame for protobuf, a text frame for JSON.
    bool send(const v1::ClientMessage& message, Millis timeout = kDefaultWait);
    // Sends arbitrary bytes as one text or binary frame.
    bool send_raw(std::string_view bytes, bool text_frame, Millis timeout = kDefaultWait);

    // The next frame; nothing on timeout or when the connection has ended.
    std::optional<Frame> receive_frame(Millis timeout = kDefaultWait);
    // The next message, decoded by the negotiated encoding. Nothing on timeout, when the
    // connection has ended, or when the frame did not decode (last_error() then says so).
    std::optional<v1::ServerMessage> receive(Millis timeout = kDefaultWait);
    // Skips messages until one satisfies `match` (e.g. past typing and presence events).
    std::optional<v1::ServerMessage> receive_until(
        const std::function<bool(const v1::ServerMessage&)>& match, Millis timeout = kDefaultWait);
    // Messages skipped by receive_until are kept here, in order, until cleared.
    const std::vector<v1::ServerMessage>& skipped() const;
    void clear_skipped();

    // Reads (and discards) until the connection ends; true when it did within the timeout.
    bool wait_closed(Millis timeout = kDefaultWait);
    // The code of the close frame the server sent, once a receive has seen it; nothing when
    // the connection ended without one (or has not ended).
    std::optional<std::uint16_t> close_code() const;
    // True once the connection is known to be over (close frame, EOF, reset, error).
    bool closed() const;

    // Sends a close frame and waits (bounded) for the server's. Safe to call when closed.
    void close(std::uint16_t code = 1000, Millis timeout = kDefaultWait);
    // Drops the TCP connection with no close handshake.
    void drop();

    const std::string& last_error() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---- HTTP and raw TCP helpers -------------------------------------------------------------

struct HttpResult {
    unsigned status = 0;  // 0: no response (connection refused, timeout, TLS failure ...)
    std::string body;
    std::string error;
    std::map<std::string, std::string> headers;  // names in lower case

    // The header's value; nothing when the response has no such header.
    std::optional<std::string> header(const std::string& lower_case_name) const {
        const auto it = headers.find(lower_case_name);
        if (it == headers.end()) return std::nullopt;
        return it->second;
    }
};

// GET http(s)://127.0.0.1:port/path, certificate not verified; one request per connection.
// With `bearer`, sends "Authorization: Bearer <bearer>".
HttpResult http_get(std::uint16_t port, const std::string& path, bool tls = false,
                    Millis timeout = kDefaultWait, const std::string& bearer = "");
// POST of a JSON body, the same way.
HttpResult http_post(std::uint16_t port, const std::string& path, const std::string& json_body,
                     const std::string& bearer = "", bool tls = false,
                     Millis timeout = kDefaultWait);

// A plain TCP connection that sends whatever bytes it is given, for peers that break the
// protocol below the WebSocket layer (e.g. never finish the HTTP upgrade).
class RawTcp {
public:
    RawTcp() = default;
    ~RawTcp();
    RawTcp(const RawTcp&) = delete;
    RawTcp& operator=(const RawTcp&) = delete;

    // From `source_address` (an IPv4 loopback address) when set.
    bool connect(std::uint16_t port, Millis timeout = kDefaultWait,
                 const std::string& source_address = {});
    bool send(std::string_view bytes);
    // Reads up to `max` bytes that arrive within the timeout (fewer when the peer closes).
    std::string read_some(std::size_t max, Millis timeout);
    // Reads and discards until the peer closes (EOF or reset); true when it did in time.
    bool wait_closed_by_peer(Millis timeout);
    void close();
    int fd() const { return fd_; }

private:
    int fd_ = -1;
};

}  // namespace haven::test
