#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <random>

#include "net/frame_queue.hpp"

using haven::net::FrameQueue;

TEST_CASE("the frame queue is first in, first out, and behaves like a deque") {
    FrameQueue<std::shared_ptr<int>> queue;
    std::deque<int> model;
    std::mt19937 rng(7);
    int next = 0;
    for (int step = 0; step < 20000; ++step) {
        const auto dice = rng() % 10;
        if (dice < 6 || model.empty()) {
            queue.push_back(std::make_shared<int>(next));
            model.push_back(next++);
        } else if (dice < 9) {
            REQUIRE(*queue.front() == model.front());
            queue.pop_front();
            model.pop_front();
        } else {
            REQUIRE(*queue.back() == model.back());
            queue.pop_back();
            model.pop_back();
        }
        REQUIRE(queue.size() == model.size());
        REQUIRE(queue.empty() == model.empty());
        if (!model.empty()) REQUIRE(*queue[model.size() / 2] == model[model.size() / 2]);
    }
}

TEST_CASE("the frame queue releases what it took and what a burst made it grow") {
    FrameQueue<std::shared_ptr<int>> queue;
    auto payload = std::make_shared<int>(1);
    queue.push_back(payload);
    queue.push_back(std::make_shared<int>(2));
    CHECK(payload.use_count() == 2);
    queue.pop_front();
    CHECK(payload.use_count() == 1);  // the taken entry no longer holds it

    // A queue that never empties (a steady stream: one in, one out) stays small.
    for (int i = 0; i < 10; ++i) queue.push_back(std::make_shared<int>(i));
    for (int i = 0; i < 100000; ++i) {
        queue.push_back(std::make_shared<int>(i));
        queue.pop_front();
    }
    CHECK(queue.size() == 11);
    CHECK(queue.capacity() <= 256);

    // A burst grows it; emptying gives the memory back.
    for (int i = 0; i < 5000; ++i) queue.push_back(std::make_shared<int>(i));
    CHECK(queue.capacity() >= 5000);
    while (!queue.empty()) queue.pop_front();
    CHECK(queue.capacity() == 0);
}
