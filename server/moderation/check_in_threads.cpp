#include "moderation/check_in_threads.hpp"

#include <algorithm>
#include <iterator>

namespace haven::moderation {

void CheckInThreads::wrote(const std::string& thread_id, CheckInThread thread) {
    if (auto found = threads_.find(thread_id); found != threads_.end()) {
        found->second.thread = std::move(thread);
        recency_.splice(recency_.end(), recency_, found->second.recency);
        return;
    }
    if (threads_.size() >= capacity_ && !recency_.empty()) {
        threads_.erase(recency_.front());
        recency_.pop_front();
    }
    recency_.push_back(thread_id);
    threads_.emplace(thread_id, Entry{std::move(thread), std::prev(recency_.end())});
}

std::optional<CheckInThread> CheckInThreads::find(const std::string& thread_id,
                                                  std::uint64_t now_ms) {
    const auto found = threads_.find(thread_id);
    if (found == threads_.end()) return std::nullopt;
    if (found->second.thread.last_ms + idle_ms_ <= now_ms) {
        recency_.erase(found->second.recency);
        threads_.erase(found);
        return std::nullopt;
    }
    return found->second.thread;
}

void CheckInThreads::touch(const std::string& thread_id, std::uint64_t now_ms) {
    const auto found = threads_.find(thread_id);
    if (found == threads_.end()) return;
    found->second.thread.last_ms = std::max(found->second.thread.last_ms, now_ms);
    recency_.splice(recency_.end(), recency_, found->second.recency);
}

}  // namespace haven::moderation
