// The one door between shards. Each shard is a thread running its own event loop; work for
// another shard is posted to it as a task that owns (or shares immutably) all it touches.
#pragma once

#include <chrono>
#include <functional>

namespace haven::core {

class ShardRouter {
public:
    virtual ~ShardRouter() = default;
    virtual unsigned shard_count() const = 0;
    // Queues `task` to run on `shard`'s thread. Tasks posted from one shard to another run
    // in the order they were posted.
    virtual void post(unsigned shard, std::function<void()> task) = 0;
    // Queues `task` to run on `shard`'s thread once `delay` has passed.
    virtual void post_after(unsigned shard, std::chrono::milliseconds delay,
                            std::function<void()> task) = 0;
};

}  // namespace haven::core
