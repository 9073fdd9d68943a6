#include "broker/redis/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>

#include "broker/redis/asio_hiredis.hpp"

namespace haven::broker::redis {
namespace {

constexpr auto kMaxBackoff = std::chrono::milliseconds(2000);
constexpr auto kReplyTimeout = std::chrono::milliseconds(3000);
constexpr auto kWatchInterval = std::chrono::milliseconds(500);

}  // namespace

struct RedisConnection::Pending {
    RedisConnection* owner;
    ReplyHandler done;
};

std::optional<RedisEndpoint> parse_redis_url(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return std::nullopt;
    RedisEndpoint endpoint;
    if (parsed->scheme() == "unix") {
        endpoint.unix_path = std::string(parsed->path());
        return endpoint.unix_path.empty() ? std::nullopt : std::optional(endpoint);
    }
    if (parsed->scheme() != "redis") return std::nullopt;
    if (!parsed->host().empty()) endpoint.host = std::string(parsed->host());
    if (parsed->has_port()) {
        const auto port = parsed->port_number();
        if (port == 0) return std::nullopt;
        endpoint.port = port;
    }
    if (parsed->has_password()) endpoint.password = std::string(parsed->password());
    const std::string path(parsed->path());
    if (path.size() > 1) {
        try {
            endpoint.database = std::stoi(path.substr(1));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return endpoint;
}

RedisConnection::RedisConnection(boost::asio::io_context& io, RedisEndpoint endpoint,
                                 std::string name, core::ShardCounters& counters)
    : io_(io),
      endpoint_(std::move(endpoint)),
      name_(std::move(name)),
      counters_(counters),
      reconnect_timer_(io),
      watchdog_(io) {}

RedisConnection::~RedisConnection() {
    *alive_ = false;
    stop();
}

void RedisConnection::start() {
    if (state_ != State::idle) return;
    connect();
    watch();
}

void RedisConnection::stop() {
    state_ = State::stopped;
    reconnect_timer_.cancel();
    watchdog_.cancel();
    if (context_ != nullptr) {
        redisAsyncContext* context = context_;
        context_ = nullptr;
        context->data = nullptr;
        // Runs every outstanding callback with no reply, then frees the context.
        redisAsyncFree(context);
    }
}

void RedisConnection::connect() {
    state_ = State::connecting;
    context_ = endpoint_.unix_path.empty()
                   ? redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port)
                   : redisAsyncConnectUnix(endpoint_.unix_path.c_str());
    if (context_ == nullptr || context_->err) {
        spdlog::warn("redis {}: cannot start connecting: {}", name_,
                     context_ ? context_->errstr : "out of memory");
        if (context_) redisAsyncFree(context_);
        context_ = nullptr;
        return schedule_reconnect();
    }
    context_->data = this;
    attach_to_asio(context_, io_);
    redisAsyncSetConnectCallback(context_, &RedisConnection::on_connect_callback);
    redisAsyncSetDisconnectCallback(context_, &RedisConnection::on_disconnect_callback);
    last_progress_ = std::chrono::steady_clock::now();
}

void RedisConnection::on_connect_callback(const redisAsyncContext* context, int status) {
    auto* self = static_cast<RedisConnection*>(context->data);
    if (self != nullptr) self->on_connected(status);
}

void RedisConnection::on_disconnect_callback(const redisAsyncContext* context, int) {
    auto* self = static_cast<RedisConnection*>(context->data);
    if (self != nullptr) self->on_disconnected();
}

void RedisConnection::on_connected(int status) {
    if (status != REDIS_OK) {
        // hiredis frees the context after this callback.
        spdlog::debug("redis {}: connect failed", name_);
        context_ = nullptr;
        return schedule_reconnect();
    }
    handshake();
}

void RedisConnection::handshake() {
    state_ = State::handshaking;
    std::vector<std::vector<std::string>> steps;
    if (!endpoint_.password.empty()) steps.push_back({"AUTH", endpoint_.password});
    if (endpoint_.database != 0) steps.push_back({"SELECT", std::to_string(endpoint_.database)});
    if (steps.empty()) return become_ready();
    auto remaining = std::make_shared<std::size_t>(steps.size());
    for (const auto& step : steps) {
        auto* pending = new Pending{this, [this, remaining](const redisReply* reply) {
                                        if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
                                            spdlog::warn("redis {}: AUTH/SELECT refused", name_);
                                            if (context_) redisAsyncDisconnect(context_);
                                            return;
                                        }
                                        if (--*remaining == 0) become_ready();
                                    }};
        if (outstanding_++ == 0) last_progress_ = std::chrono::steady_clock::now();
        send(step, &RedisConnection::on_reply, pending);
    }
}

void RedisConnection::become_ready() {
    state_ = State::ready;
    backoff_ = std::chrono::milliseconds(100);
    if (ever_connected_) {
        spdlog::info("redis {}: reconnected", name_);
    } else {
        spdlog::info("redis {}: connected", name_);
    }
    ever_connected_ = true;
    if (state_handler_) state_handler_(true);
}

void RedisConnection::on_disconnected() {
    const bool was_ready = state_ == State::ready;
    context_ = nullptr;  // hiredis frees it after this callback
    outstanding_ = 0;
    if (state_ == State::stopped) return;
    spdlog::warn("redis {}: connection lost", name_);
    schedule_reconnect();
    if (was_ready && state_handler_) state_handler_(false);
}

void RedisConnection::schedule_reconnect() {
    if (state_ == State::stopped) return;
    state_ = State::idle;
    counters_.add(counters_.redis_reconnects);
    reconnect_timer_.expires_after(backoff_);
    backoff_ =
        std::min(backoff_ * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kMaxBackoff));
    reconnect_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (ec || !*alive || state_ == State::stopped) return;
        connect();
    });
}

void RedisConnection::watch() {
    watchdog_.expires_after(kWatchInterval);
    watchdog_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (ec || !*alive || state_ == State::stopped) return;
        const auto now = std::chrono::steady_clock::now();
        const bool stalled =
            (outstanding_ > 0 || state_ == State::connecting || state_ == State::handshaking) &&
            now - last_progress_ > kReplyTimeout;
        if (stalled && context_ != nullptr) {
            spdlog::warn("redis {}: no reply for {} ms, reconnecting", name_,
                         kReplyTimeout.count());
            redisAsyncContext* context = context_;
            const bool was_ready = state_ == State::ready;
            context_ = nullptr;
            context->data = nullptr;
            outstanding_ = 0;
            redisAsyncFree(context);  // fails every outstanding command
            schedule_reconnect();
            if (was_ready && state_handler_) state_handler_(false);
        }
        watch();
    });
}

void RedisConnection::send(const std::vector<std::string>& args,
                           void (*callback)(redisAsyncContext*, void*, void*), void* privdata) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    if (redisAsyncCommandArgv(context_, callback, privdata, static_cast<int>(args.size()),
                              argv.data(), lengths.data()) != REDIS_OK) {
        // hiredis refused to queue it (context closing): fail it now.
        callback(context_, nullptr, privdata);
    }
}

void RedisConnection::command(const std::vector<std::string>& args, ReplyHandler done) {
    if (state_ != State::ready || context_ == nullptr) {
        // Answer on a later turn so callers never see their handler run re-entrantly.
        io_.get_executor().execute([done = std::move(done)] { done(nullptr); });
        return;
    }
    // The watchdog measures from the oldest unanswered command.
    if (outstanding_++ == 0) last_progress_ = std::chrono::steady_clock::now();
    send(args, &RedisConnection::on_reply, new Pending{this, std::move(done)});
}

void RedisConnection::subscription_command(const std::vector<std::string>& args) {
    if (state_ != State::ready || context_ == nullptr) return;  // redone after reconnect
    send(args, &RedisConnection::on_push_reply, this);
}

void RedisConnection::on_reply(redisAsyncContext* context, void* reply, void* privdata) {
    std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
    // During teardown (context->data cleared) the owner may be gone: still run the handler,
    // which only touches state guarded by its own liveness checks.
    if (context != nullptr && context->data != nullptr) {
        RedisConnection* self = pending->owner;
        if (self->outstanding_ > 0) --self->outstanding_;
        self->last_progress_ = std::chrono::steady_clock::now();
    }
    pending->done(static_cast<const redisReply*>(reply));
}

void RedisConnection::on_push_reply(redisAsyncContext* context, void* reply, void*) {
    if (context == nullptr || context->data == nullptr) return;
    auto* self = static_cast<RedisConnection*>(context->data);
    self->last_progress_ = std::chrono::steady_clock::now();
    if (self->push_handler_) self->push_handler_(static_cast<const redisReply*>(reply));
}

}  // namespace haven::broker::redis
