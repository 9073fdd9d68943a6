// The outbound queue of one connection: a FIFO kept in one vector. An empty queue owns no
// memory (std::deque allocates a map and a 512-byte block up front, for every connection, busy
// or idle); taken entries are compacted away in bulk, so each push and pop stays O(1)
// amortised however long the queue runs without emptying. Pushing may move the entries: a
// write in flight must not point into them (the session copies what it needs).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace haven::net {

template <class T>
class FrameQueue {
public:
    bool empty() const { return head_ == items_.size(); }
    std::size_t size() const { return items_.size() - head_; }

    T& front() { return items_[head_]; }
    T& back() { return items_.back(); }
    T& operator[](std::size_t index) { return items_[head_ + index]; }

    void push_back(T item) { items_.push_back(std::move(item)); }

    void pop_front() {
        items_[head_] = T{};  // lets go of the payload now
        if (++head_ == items_.size()) {
            reset();
        } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
            items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }

    void pop_back() {
        items_.pop_back();
        if (empty()) reset();
    }

    void clear() { reset(); }

    std::size_t capacity() const { return items_.capacity(); }

private:
    // Emptied: the memory goes back. Most connections are idle most of the time, and one
    // allocation per burst costs little next to the write that empties the queue.
    void reset() {
        items_.clear();
        head_ = 0;
        items_.shrink_to_fit();
    }

    static constexpr std::size_t kCompactAfter = 64;

    std::vector<T> items_;
    std::size_t head_ = 0;  // items_[0, head_) were taken
};

}  // namespace haven::net
