#include "broker/user_rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace haven::broker {
namespace {

// A bucket in one word: the time of the last refill (ms, 44 bits: good until the year 2527)
// and the tokens left in hundredths (20 bits: up to 10,485 tokens). Zero means "never used",
// which reads as a full bucket.
constexpr std::uint64_t kTokenBits = 20;
constexpr std::uint64_t kTokenMask = (std::uint64_t{1} << kTokenBits) - 1;
constexpr double kTokenScale = 100.0;

std::uint64_t pack(std::uint64_t time_ms, double tokens) {
    const auto scaled = static_cast<std::uint64_t>(
        std::clamp(tokens * kTokenScale, 0.0, static_cast<double>(kTokenMask)));
    return (time_ms << kTokenBits) | scaled;
}

}  // namespace

UserRateLimiter::UserRateLimiter() : slots_(new std::atomic<std::uint64_t>[kSlots]) {
    for (std::size_t i = 0; i < kSlots; ++i) slots_[i].store(0, std::memory_order_relaxed);
}

std::uint32_t UserRateLimiter::try_take(std::string_view subject, double rate, double burst,
                                        std::uint64_t now_ms) {
    if (rate <= 0) return 0;
    std::atomic<std::uint64_t>& slot = slots_[std::hash<std::string_view>{}(subject) % kSlots];
    std::uint64_t current = slot.load(std::memory_order_relaxed);
    for (;;) {
        double tokens = burst;
        if (current != 0) {
            const std::uint64_t last_ms = current >> kTokenBits;
            const double elapsed = now_ms > last_ms ? static_cast<double>(now_ms - last_ms) : 0.0;
            tokens = std::min(burst, static_cast<double>(current & kTokenMask) / kTokenScale +
                                         elapsed / 1000.0 * rate);
        }
        if (tokens < 1.0) {
            return static_cast<std::uint32_t>(std::ceil((1.0 - tokens) / rate * 1000.0));
        }
        if (slot.compare_exchange_weak(current, pack(now_ms, tokens - 1.0),
                                       std::memory_order_relaxed)) {
            return 0;
        }
    }
}

}  // namespace haven::broker
