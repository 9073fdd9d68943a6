// Corking, per shard: connections that got frames during this turn of the event loop are
// written once each at the end of the turn, so every frame queued meanwhile (several events to
// one subscriber) shares one write. One posted task per shard and turn, not one per delivery.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace haven::net {

class Flushable {
public:
    virtual ~Flushable() = default;
    virtual void flush() = 0;
};

class WriteBatcher {
public:
    explicit WriteBatcher(boost::asio::io_context& io) : io_(io) {}

    // Schedules `target` for this turn's flush (call once until it has been flushed).
    void add(std::shared_ptr<Flushable> target) {
        if (pending_.empty()) boost::asio::post(io_, [this] { run(); });
        pending_.push_back(std::move(target));
    }

    // After the loop has stopped: lets go of connections still waiting, while their event
    // loop still exists.
    void drop_pending() { pending_.clear(); }

private:
    void run() {
        running_.swap(pending_);
        for (auto& target : running_) target->flush();
        running_.clear();  // keeps its capacity: no allocation per turn
    }

    boost::asio::io_context& io_;
    std::vector<std::shared_ptr<Flushable>> pending_;
    std::vector<std::shared_ptr<Flushable>> running_;
};

}  // namespace haven::net
