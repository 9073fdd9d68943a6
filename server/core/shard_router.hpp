// The one door between shards. Each shard is a thread running its own event loop; work for
// another shard is posted to it as a task that owns (or shares immutably) all it touches.
// Coroutines that belong to a shard run on its event loop (`context`), so a flow that hops
// from one shard to another says so in one line (see core/spawn.hpp).
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>

#include "core/task.hpp"

namespace haven::core {

class ShardRouter {
public:
    virtual ~ShardRouter() = default;
    virtual unsigned shard_count() const = 0;
    // Queues `task` to run on `shard`'s thread. Tasks run in the order they were posted, by
    // whichever shard posted them: a task a shard posts to itself runs before one that
    // another shard posts later, in answer to something that came after it.
    virtual void post(unsigned shard, Task task) = 0;
    // Queues `task` to run on `shard`'s thread once `delay` has passed.
    virtual void post_after(unsigned shard, std::chrono::milliseconds delay, Task task) = 0;
    // The shard's event loop.
    virtual boost::asio::io_context& context(unsigned shard) = 0;
};

}  // namespace haven::core
