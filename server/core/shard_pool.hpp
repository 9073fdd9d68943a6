// The shards: one io_context per thread, each running until stop(). Implements ShardRouter by
// posting to the target shard's io_context, which runs tasks in the order they were posted.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/shard_router.hpp"

namespace haven::core {

class ShardPool final : public ShardRouter {
public:
    explicit ShardPool(unsigned shards);

    unsigned shard_count() const override { return static_cast<unsigned>(contexts_.size()); }
    void post(unsigned shard, Task task) override;
    void post_after(unsigned shard, std::chrono::milliseconds delay, Task task) override;
    boost::asio::io_context& context(unsigned shard) override { return *contexts_[shard]; }

    // Runs every shard on its own thread (shard 0 on the calling thread) until stop().
    void run();
    void stop();

private:
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
};

}  // namespace haven::core
