// Per-person post limits shared by all of a person's sessions, whichever shard they are on:
// the embedded broker's counterpart of the token bucket the Redis broker keeps in Redis.
//
// Lock-free: a fixed table of token buckets, each packed into one atomic word and updated with
// compare-and-swap, indexed by a hash of the person's subject. Two people whose subjects share
// a slot share a budget; with 65,536 slots that needs thousands of people posting at the limit
// at once to matter, and only ever makes the limit stricter.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace haven::broker {

class UserRateLimiter {
public:
    UserRateLimiter();

    // Takes one post from `subject`'s budget (`rate` per second, up to `burst`). Returns 0
    // when allowed, or how many milliseconds until it would be.
    std::uint32_t try_take(std::string_view subject, double rate, double burst,
                           std::uint64_t now_ms);

private:
    static constexpr std::size_t kSlots = 1 << 16;
    std::unique_ptr<std::atomic<std::uint64_t>[]> slots_;
};

}  // namespace haven::broker
