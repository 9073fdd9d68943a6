// Shared pieces of the integration tests: message builders, a test-facing client that keeps
// an inbox of messages it has read but not yet consumed, and small utilities.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "haven.pb.h"
#include "protocol/codec.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace haven::test {

using protocol::Encoding;
using Predicate = std::function<bool(const v1::ServerMessage&)>;

inline constexpr Encoding kEncodings[] = {Encoding::binary, Encoding::json};
std::string encoding_name(Encoding encoding);
ConnectOptions options_for(Encoding encoding);

// A 32+ byte HS256 secret, and the [auth] table that configures it.
inline constexpr const char* kJwtSecret = "integration-test-secret-0123456789abcdef";
std::string jwt_auth_toml(bool guests = true);
// A signed token for these claims; exp is relative to now.
std::string make_token(const std::string& subject, const std::string& name, const std::string& role,
                       std::int64_t expires_in_seconds, const std::string& secret = kJwtSecret);

// ---- ClientMessage builders ----------------------------------------------------------------
v1::ClientMessage msg_hello_guest(const std::string& handle = "",
                                  const std::string& guest_token = "");
v1::ClientMessage msg_hello_token(const std::string& token);
v1::ClientMessage msg_join(const std::string& room, std::uint64_t since_seq = 0);
v1::ClientMessage msg_leave(const std::string& room);
v1::ClientMessage msg_post(const std::string& room, const std::string& text,
                           const std::string& client_msg_id = "");
v1::ClientMessage msg_typing(const std::string& room, bool active);
v1::ClientMessage msg_history(const std::string& room, std::uint64_t before_seq,
                              std::uint64_t after_seq, std::uint32_t limit);
v1::ClientMessage msg_ping(std::uint64_t client_time_ms = 42);

// ---- predicates ------------------------------------------------------------------------------
Predicate reply_to(std::uint64_t request_id);
Predicate posted_in(const std::string& room);
Predicate posted_with_id(const std::string& client_msg_id);
Predicate posted_seq(const std::string& room, std::uint64_t seq);
Predicate member_joined(const std::string& member_id);
Predicate member_left(const std::string& member_id);
Predicate typing_from(const std::string& member_id);

std::string describe(const v1::ServerMessage& message);  // one line, for failure output

// ---- the test client -----------------------------------------------------------------------

class Client {
public:
    // Connects (REQUIREs success) in the given encoding.
    Client(const ServerProcess& server, Encoding encoding, ConnectOptions options = {});
    // Not connected yet; call connect().
    Client() = default;

    ConnectResult connect(const ServerProcess& server, Encoding encoding,
                          ConnectOptions options = {});

    // Sends with a fresh request id (unless the message already has one) and returns it.
    std::uint64_t send(v1::ClientMessage message);

    // The first message (inbox first, then the wire) matching; nothing on timeout.
    std::optional<v1::ServerMessage> next(const Predicate& match, Millis timeout = kDefaultWait);
    // Same, but REQUIREs it arrives.
    v1::ServerMessage expect(const Predicate& match, const char* what,
                             Millis timeout = kDefaultWait);
    // The direct reply to a request (REQUIREd).
    v1::ServerMessage reply(std::uint64_t request_id, Millis timeout = kDefaultWait);
    // The reply, REQUIREd to be an Error, returning its code.
    v1::ErrorCode error_reply(std::uint64_t request_id, Millis timeout = kDefaultWait);
    // Everything that arrives within `window` (after the inbox), removing it from the inbox.
    std::vector<v1::ServerMessage> collect(Millis window);

    // Round trips, each REQUIRing success.
    v1::Welcome hello_guest(const std::string& handle = "", const std::string& guest_token = "");
    v1::Welcome hello_token(const std::string& token);
    v1::Joined join(const std::string& room, std::uint64_t since_seq = 0);
    v1::Ack post(const std::string& room, const std::string& text,
                 const std::string& client_msg_id = "");
    void ping();  // a Ping answered by a Pong: the connection is usable

    // Names the encoding in failure output. (CAPTURE keeps a reference, so it needs a named
// variable, not a temporary.)
#define HAVEN_CONCAT_INNER(a, b) a##b
#define HAVEN_CONCAT(a, b) HAVEN_CONCAT_INNER(a, b)
#define CAPTURE_ENCODING(encoding)                                                       \
    const std::string HAVEN_CONCAT(encoding_label_, __LINE__) = encoding_name(encoding); \
    CAPTURE(HAVEN_CONCAT(encoding_label_, __LINE__))

    // Waits for the server to close the connection; the close code it sent, if any.
    std::optional<std::uint16_t> wait_close(Millis timeout = kDefaultWait);

    std::deque<v1::ServerMessage>& inbox() {
        return inbox_;
    }
    WsClient& ws() {
        return ws_;
    }
    const v1::Welcome& welcome() const {
        return welcome_;
    }
    const std::string& member_id() const {
        return welcome_.session_id();
    }
    Encoding encoding() const {
        return ws_.encoding();
    }

private:
    WsClient ws_;
    std::deque<v1::ServerMessage> inbox_;
    std::uint64_t next_request_ = 1;
    v1::Welcome welcome_;
};

// A guest that has said Hello and joined `room`.
// `options`: how to connect (default: options_for(encoding)).
Client guest_in(const ServerProcess& server, Encoding encoding, const std::string& room,
                const std::string& handle = "", std::optional<ConnectOptions> options = {});

// Starts a server (REQUIREd to become healthy).
void require_started(ServerProcess& server);

// The value of one metric from /metrics, or nothing.
std::optional<std::uint64_t> metric(const ServerProcess& server, const std::string& name);

// Polls `condition` until it holds or the timeout passes.
bool eventually(const std::function<bool()>& condition, Millis timeout = kDefaultWait,
                Millis interval = Millis(10));

// A unique-enough id for client_msg_id values and markers.
std::string unique_id(const std::string& prefix);

}  // namespace haven::test

// Names the encoding in failure output. (CAPTURE keeps a reference, so it needs a named
// variable, not a temporary.)
#define HAVEN_CONCAT_INNER(a, b) a##b
#define HAVEN_CONCAT(a, b) HAVEN_CONCAT_INNER(a, b)
#define CAPTURE_ENCODING(encoding)                                                       \
    const std::string HAVEN_CONCAT(encoding_label_, __LINE__) = encoding_name(encoding); \
    CAPTURE(HAVEN_CONCAT(encoding_label_, __LINE__))

// Waits for the server to close `client` and checks the close code, showing how the
// connection ended when it does not match.
#define CHECK_CLOSE_CODE(client, code, timeout)                                        \
    do {                                                                               \
        const std::optional<std::uint16_t> close_code_ = (client).wait_close(timeout); \
        INFO("connection end: " << (client).ws().last_error());                        \
        CHECK(close_code_ == std::optional<std::uint16_t>(code));                      \
    } while (false)

// Readable optionals in failed checks.
namespace doctest {
template <typename T>
struct StringMaker<std::optional<T>> {
    static String convert(const std::optional<T>& value) {
        if (!value) return "nullopt";
        return toString(*value);
    }
};
}  // namespace doctest
