// One hiredis async connection driven by a shard's event loop, reconnecting by itself with
// backoff. Commands sent while it is down fail at once (the handler gets no reply), so callers
// answer "unavailable" instead of waiting; hiredis has no timeouts, so a watchdog cuts a
// connection whose replies stop coming.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/metrics.hpp"

struct redisAsyncContext;
struct redisReply;

namespace haven::broker::redis {

struct RedisEndpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string unix_path;  // used instead of host/port when set
    int database = 0;
    std::string password;
};

// Parses redis://[:password@]host[:port][/db] and unix:///path. Nothing when malformed.
std::optional<RedisEndpoint> parse_redis_url(const std::string& url);

class RedisConnection {
public:
    // null: no reply (not connected, connection lost, or timed out).
    using ReplyHandler = std::function<void(const redisReply*)>;

    RedisConnection(boost::asio::io_context& io, RedisEndpoint endpoint, std::string name,
                    core::ShardCounters& counters);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Called with true once connected (and authenticated / database selected) and with false
    // when the connection is lost. Set before start().
    void on_state_change(std::function<void(bool up)> handler) {
        state_handler_ = std::move(handler);
    }
    // For a subscriber connection: receives every pub/sub message and confirmation.
    void on_push(ReplyHandler handler) { push_handler_ = std::move(handler); }

    void start();
    void stop();
    bool connected() const { return state_ == State::ready; }

    // Sends one command; binary-safe arguments. `done` runs exactly once.
    void command(const std::vector<std::string>& args, ReplyHandler done);
    // SUBSCRIBE / UNSUBSCRIBE: replies and messages go to the push handler.
    void subscription_command(const std::vector<std::string>& args);

private:
    enum class State { idle, connecting, handshaking, ready, stopped };
    struct Pending;

    void connect();
    void on_connected(int status);
    void on_disconnected();
    void handshake();
    void become_ready();
    void schedule_reconnect();
    void watch();
    void send(const std::vector<std::string>& args,
              void (*callback)(redisAsyncContext*, void*, void*), void* privdata);
    static void on_reply(redisAsyncContext* context, void* reply, void* privdata);
    static void on_push_reply(redisAsyncContext* context, void* reply, void* privdata);
    static void on_connect_callback(const redisAsyncContext* context, int status);
    static void on_disconnect_callback(const redisAsyncContext* context, int status);

    boost::asio::io_context& io_;
    RedisEndpoint endpoint_;
    std::string name_;
    core::ShardCounters& counters_;
    redisAsyncContext* context_ = nullptr;
    State state_ = State::idle;
    std::function<void(bool)> state_handler_;
    ReplyHandler push_handler_;
    boost::asio::steady_timer reconnect_timer_;
    boost::asio::steady_timer watchdog_;
    std::chrono::milliseconds backoff_{100};
    std::size_t outstanding_ = 0;  // one-shot commands awaiting replies
    std::chrono::steady_clock::time_point last_progress_{};
    bool ever_connected_ = false;
    // Handlers that outlive this object (hiredis may call back during teardown) check it.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haven::broker::redis
