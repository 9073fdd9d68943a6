#include "core/shard_pool.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/shard_identity.hpp"

namespace haven::core {

ShardPool::ShardPool(unsigned shards) {
    contexts_.reserve(shards);
    // The default concurrency hint, not 1: with a hint of 1 Asio keeps what a shard posts to
    // itself in a thread-private queue until the running handler returns, so a task that
    // another shard posted meanwhile, in answer to something that came after, ran first (an
    // audit entry appended, the action acknowledged, and a read of the log that missed it).
    for (unsigned i = 0; i < shards; ++i) {
        contexts_.push_back(std::make_unique<boost::asio::io_context>());
    }
}

void ShardPool::post_after(unsigned shard, std::chrono::milliseconds delay, Task task) {
    auto timer = std::make_shared<boost::asio::steady_timer>(*contexts_[shard], delay);
    timer->async_wait([timer, task = std::move(task)](const boost::system::error_code& ec) mutable {
        if (!ec) task();
    });
}

void ShardPool::post(unsigned shard, Task task) {
    boost::asio::post(*contexts_[shard], std::move(task));
}

void ShardPool::run() {
    std::vector<std::thread> threads;
    threads.reserve(contexts_.size());
    for (std::size_t i = 1; i < contexts_.size(); ++i) {
        threads.emplace_back([context = contexts_[i].get(), shard = static_cast<unsigned>(i)] {
            const ShardScope identity(shard);
            context->run();
        });
    }
    const ShardScope identity(0);
    contexts_[0]->run();
    for (auto& thread : threads) thread.join();
}

void ShardPool::stop() {
    for (auto& context : contexts_) context->stop();
}

}  // namespace haven::core
