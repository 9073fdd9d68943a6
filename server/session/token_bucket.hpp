// A token bucket: `rate` tokens per second up to `burst`. Used for per-session rate limits.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace haven::session {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    TokenBucket(double rate_per_second, double burst)
        : rate_(rate_per_second), burst_(burst), tokens_(burst) {}

    // Takes one token when available. Otherwise returns false and leaves the bucket as is.
    bool try_take(Clock::time_point now) {
        refill(now);
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

    // How long until one token is available (zero when one is available now).
    std::chrono::milliseconds wait_time(Clock::time_point now) {
        refill(now);
        if (tokens_ >= 1.0 || rate_ <= 0) return std::chrono::milliseconds(0);
        const double seconds = (1.0 - tokens_) / rate_;
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

}  // namespace haven::session
