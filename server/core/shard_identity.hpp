// Which shard the calling thread is running. Every piece of mutable state has one owner
// shard; entry points that touch it check the caller is that shard, so "owned by shard N"
// is an assertion, not only a comment. The shard pool sets the identity on each shard's thread
// (the hub tests' router around each task); any other thread (start-up, teardown, a test's own
// thread driving one shard at a time) has none, and is not checked.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace haven::core {

inline constexpr unsigned kNoShard = ~0u;

namespace detail {
inline thread_local unsigned current_shard = kNoShard;
}

inline unsigned current_shard() {
    return detail::current_shard;
}

// Sets the calling thread's shard for the scope's lifetime.
class ShardScope {
public:
    explicit ShardScope(unsigned shard) : previous_(detail::current_shard) {
        detail::current_shard = shard;
    }
    ~ShardScope() { detail::current_shard = previous_; }
    ShardScope(const ShardScope&) = delete;
    ShardScope& operator=(const ShardScope&) = delete;

private:
    unsigned previous_;
};

// Stops the process when state owned by `owner` is touched from another shard's thread: that
// is a data race, and continuing would corrupt what people see.
inline void check_owner(unsigned owner, const char* what) {
    const unsigned running = detail::current_shard;
    if (running == kNoShard || running == owner) return;
    std::fprintf(stderr, "haven: %s is owned by shard %u but was called on shard %u\n", what, owner,
                 running);
    std::abort();
}

}  // namespace haven::core
