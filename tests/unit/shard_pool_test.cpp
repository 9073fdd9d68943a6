#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>

#include "core/shard_pool.hpp"

namespace {

using namespace std::chrono_literals;

}  // namespace

TEST_CASE("shard pool: a task a shard posts to itself runs before a later one from another") {
    // Shard 0 posts A to itself, then asks shard 1 to post B to shard 0, and waits inside the
    // same handler until shard 1 has done so. B follows A causally, so A must run first.
    haven::core::ShardPool pool(2);
    std::mutex mutex;
    std::vector<char> order;
    std::atomic<bool> b_posted = false;
    const auto record = [&](char name) {
        const std::lock_guard lock(mutex);
        order.push_back(name);
    };
    pool.post(0, [&] {
        pool.post(0, [&] { record('A'); });
        pool.post(1, [&] {
            pool.post(0, [&] {
                record('B');
                pool.stop();
            });
            b_posted = true;
        });
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!b_posted && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
    });
    // Keeps shard 1 running until shard 0 has work for it; stop() ends both.
    auto keep_running = boost::asio::make_work_guard(pool.context(1));
    pool.run();
    REQUIRE(b_posted);
    REQUIRE(order.size() == 2);
    CHECK(order[0] == 'A');
    CHECK(order[1] == 'B');
}
