#include "integration/helpers.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "support/token_factory.hpp"

namespace haven::test {

using Clock = std::chrono::steady_clock;

std::string encoding_name(Encoding encoding) {
    return encoding == Encoding::json ? "json" : "binary";
}

ConnectOptions options_for(Encoding encoding) {
    ConnectOptions options;
    options.subprotocol = std::string(encoding == Encoding::json ? protocol::kJsonSubprotocol
                                                                 : protocol::kBinarySubprotocol);
    return options;
}

std::string jwt_auth_toml(bool guests) {
    return std::string("[auth]\nguest_enabled = ") + (guests ? "true" : "false") +
           "\njwt_hs256_secret = \"" + kJwtSecret + "\"\n";
}

std::string make_token(const std::string& subject, const std::string& name, const std::string& role,
                       std::int64_t expires_in_seconds, const std::string& secret) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string payload = "{\"sub\":\"" + subject + "\",\"name\":\"" + name + "\"";
    if (!role.empty()) payload += ",\"role\":\"" + role + "\"";
    payload += ",\"exp\":" + std::to_string(now + expires_in_seconds) + "}";
    return make_hs256_token(payload, secret);
}

// ---- builders ------------------------------------------------------------------------------

v1::ClientMessage msg_hello_guest(const std::string& handle, const std::string& guest_token) {
    v1::ClientMessage message;
    v1::Hello* hello = message.mutable_hello();
    hello->set_guest(true);
    hello->set_guest_handle(handle);
    hello->set_guest_token(guest_token);
    hello->set_client("haven-integration-tests");
    return message;
}

v1::ClientMessage msg_hello_token(const std::string& token) {
    v1::ClientMessage message;
    message.mutable_hello()->set_token(token);
    message.mutable_hello()->set_client("haven-integration-tests");
    return message;
}

v1::ClientMessage msg_join(const std::string& room, std::uint64_t since_seq) {
    v1::ClientMessage message;
    message.mutable_join()->set_room_id(room);
    message.mutable_join()->set_since_seq(since_seq);
    return message;
}

v1::ClientMessage msg_leave(const std::string& room) {
    v1::ClientMessage message;
    message.mutable_leave()->set_room_id(room);
    return message;
}

v1::ClientMessage msg_post(const std::string& room, const std::string& text,
                           const std::string& client_msg_id) {
    v1::ClientMessage message;
    v1::Post* post = message.mutable_post();
    post->set_room_id(room);
    post->set_text(text);
    post->set_client_msg_id(client_msg_id);
    return message;
}

v1::ClientMessage msg_typing(const std::string& room, bool active) {
    v1::ClientMessage message;
    message.mutable_typing()->set_room_id(room);
    message.mutable_typing()->set_active(active);
    return message;
}

v1::ClientMessage msg_history(const std::string& room, std::uint64_t before_seq,
                              std::uint64_t after_seq, std::uint32_t limit) {
    v1::ClientMessage message;
    v1::HistoryRequest* history = message.mutable_history();
    history->set_room_id(room);
    history->set_before_seq(before_seq);
    history->set_after_seq(after_seq);
    history->set_limit(limit);
    return message;
}

v1::ClientMessage msg_ping(std::uint64_t client_time_ms) {
    v1::ClientMessage message;
    message.mutable_ping()->set_client_time_ms(client_time_ms);
    return message;
}

// ---- predicates ------------------------------------------------------------------------------

Predicate reply_to(std::uint64_t request_id) {
    return [request_id](const v1::ServerMessage& m) { return m.request_id() == request_id; };
}

Predicate posted_in(const std::string& room) {
    return [room](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_posted() && m.event().room_id() == room;
    };
}

Predicate posted_with_id(const std::string& client_msg_id) {
    return [client_msg_id](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_posted() &&
               m.event().posted().client_msg_id() == client_msg_id;
    };
}

Predicate posted_seq(const std::string& room, std::uint64_t seq) {
    return [room, seq](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_posted() && m.event().room_id() == room &&
               m.event().seq() == seq;
    };
}

Predicate member_joined(const std::string& member_id) {
    return [member_id](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_member_joined() &&
               m.event().member_joined().member().member_id() == member_id;
    };
}

Predicate member_left(const std::string& member_id) {
    return [member_id](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_member_left() &&
               m.event().member_left().member().member_id() == member_id;
    };
}

Predicate typing_from(const std::string& member_id) {
    return [member_id](const v1::ServerMessage& m) {
        return m.has_event() && m.event().has_typing() &&
               m.event().typing().member().member_id() == member_id;
    };
}

std::string describe(const v1::ServerMessage& message) {
    std::string text = message.ShortDebugString();
    if (text.size() > 300) text = text.substr(0, 300) + "...";
    return text;
}

// ---- Client --------------------------------------------------------------------------------

Client::Client(const ServerProcess& server, Encoding encoding, ConnectOptions options) {
    const ConnectResult result = connect(server, encoding, std::move(options));
    INFO("connect: " << result.error);
    REQUIRE(result.ok);
}

ConnectResult Client::connect(const ServerProcess& server, Encoding encoding,
                              ConnectOptions options) {
    options.subprotocol = options_for(encoding).subprotocol;
    options.tls = server.tls();
    inbox_.clear();
    welcome_.Clear();
    ConnectResult result = ws_.connect(server.port(), options);
    if (result.ok) CHECK(ws_.encoding() == encoding);
    return result;
}

std::uint64_t Client::send(v1::ClientMessage message) {
    if (message.request_id() == 0) message.set_request_id(next_request_++);
    const bool sent = ws_.send(message);
    INFO("send: " << ws_.last_error());
    REQUIRE(sent);
    return message.request_id();
}

std::optional<v1::ServerMessage> Client::next(const Predicate& match, Millis timeout) {
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
        if (match(*it)) {
            v1::ServerMessage found = std::move(*it);
            inbox_.erase(it);
            return found;
        }
    }
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto now = Clock::now();
        const Millis left =
            now >= deadline ? Millis(0) : std::chrono::duration_cast<Millis>(deadline - now);
        auto message = ws_.receive(left);
        if (!message) return std::nullopt;
        if (match(*message)) return message;
        inbox_.push_back(std::move(*message));
    }
}

v1::ServerMessage Client::expect(const Predicate& match, const char* what, Millis timeout) {
    auto message = next(match, timeout);
    if (!message) {
        std::ostringstream unread;
        for (const auto& m : inbox_) unread << "\n  unread: " << describe(m);
        INFO("waiting for " << what << ": " << ws_.last_error() << unread.str());
        REQUIRE(message.has_value());
    }
    return std::move(*message);
}

v1::ServerMessage Client::reply(std::uint64_t request_id, Millis timeout) {
    return expect(reply_to(request_id), "the reply to a request", timeout);
}

v1::ErrorCode Client::error_reply(std::uint64_t request_id, Millis timeout) {
    const v1::ServerMessage message = reply(request_id, timeout);
    INFO("reply: " << describe(message));
    REQUIRE(message.has_error());
    return message.error().code();
}

std::vector<v1::ServerMessage> Client::collect(Millis window) {
    std::vector<v1::ServerMessage> out(std::make_move_iterator(inbox_.begin()),
                                       std::make_move_iterator(inbox_.end()));
    inbox_.clear();
    const auto deadline = Clock::now() + window;
    for (;;) {
        const auto now = Clock::now();
        if (now >= deadline) break;
        auto message = ws_.receive(std::chrono::duration_cast<Millis>(deadline - now));
        if (!message) break;
        out.push_back(std::move(*message));
    }
    return out;
}

v1::Welcome Client::hello_guest(const std::string& handle, const std::string& guest_token) {
    const v1::ServerMessage message = reply(send(msg_hello_guest(handle, guest_token)));
    INFO("reply to guest Hello: " << describe(message));
    REQUIRE(message.has_welcome());
    welcome_ = message.welcome();
    return welcome_;
}

v1::Welcome Client::hello_token(const std::string& token) {
    const v1::ServerMessage message = reply(send(msg_hello_token(token)));
    INFO("reply to token Hello: " << describe(message));
    REQUIRE(message.has_welcome());
    welcome_ = message.welcome();
    return welcome_;
}

v1::Joined Client::join(const std::string& room, std::uint64_t since_seq) {
    const v1::ServerMessage message = reply(send(msg_join(room, since_seq)));
    INFO("reply to Join " << room << ": " << describe(message));
    REQUIRE(message.has_joined());
    return message.joined();
}

v1::Ack Client::post(const std::string& room, const std::string& text,
                     const std::string& client_msg_id) {
    const v1::ServerMessage message = reply(send(msg_post(room, text, client_msg_id)));
    INFO("reply to Post: " << describe(message));
    REQUIRE(message.has_ack());
    return message.ack();
}

void Client::ping() {
    const v1::ServerMessage message = reply(send(msg_ping(7)));
    INFO("reply to Ping: " << describe(message));
    REQUIRE(message.has_pong());
    CHECK(message.pong().client_time_ms() == 7);
}

std::optional<std::uint16_t> Client::wait_close(Millis timeout) {
    const bool ended = ws_.wait_closed(timeout);
    INFO("waiting for the server to close: " << ws_.last_error());
    REQUIRE(ended);
    return ws_.close_code();
}

Client guest_in(const ServerProcess& server, Encoding encoding, const std::string& room,
                const std::string& handle, std::optional<ConnectOptions> options) {
    Client client(server, encoding, options ? *options : options_for(encoding));
    client.hello_guest(handle);
    client.join(room);
    return client;
}

void require_started(ServerProcess& server) {
    const bool started = server.start();
    INFO(server.error());
    REQUIRE(started);
}

std::optional<std::uint64_t> metric(const ServerProcess& server, const std::string& name) {
    const HttpResult result = http_get(server.port(), "/metrics", server.tls());
    if (result.status != 200) return std::nullopt;
    std::istringstream lines(result.body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(name + " ", 0) == 0) return std::stoull(line.substr(name.size() + 1));
    }
    return std::nullopt;
}

bool eventually(const std::function<bool()>& condition, Millis timeout, Millis interval) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (condition()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);
    }
}

std::string unique_id(const std::string& prefix) {
    static std::atomic<unsigned> counter{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return prefix + "-" + std::to_string(now % 1'000'000'007) + "-" + std::to_string(++counter);
}

}  // namespace haven::test
