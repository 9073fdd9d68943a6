// A token bucket: `rate` tokens per second up to `burst`. Used for per-session rate limits
// (posts, typing, joins and leaves, history events) and per-address ones (new guests).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace haven::core {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    TokenBucket(double rate_per_second, double burst)
        : rate_(rate_per_second), burst_(burst), tokens_(burst) {}

    // Takes `cost` tokens when available. Otherwise returns false and leaves the bucket as is.
    // A cost above the burst is taken from a full bucket (it leaves it in debt), so no request
    // is refused for ever.
    bool try_take(Clock::time_point now, double cost = 1.0) {
        refill(now);
        if (tokens_ < std::min(cost, burst_)) return false;
        tokens_ -= cost;
        return true;
    }

    // How long until `cost` tokens are available (zero when they are now).
    std::chrono::milliseconds wait_time(Clock::time_point now, double cost = 1.0) {
        refill(now);
        const double needed = std::min(cost, burst_);
        if (tokens_ >= needed || rate_ <= 0) return std::chrono::milliseconds(0);
        const double seconds = (needed - tokens_) / rate_;
        return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0) + 1);
    }

private:
    void refill(Clock::time_point now) {
        if (last_ == Clock::time_point{}) last_ = now;
        const double elapsed = std::chrono::duration<double>(now - last_).count();
        if (elapsed > 0) {
            tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
            last_ = now;
        }
    }

    double rate_;
    double burst_;
    double tokens_;
    Clock::time_point last_{};
};

}  // namespace haven::core
