#include "moderation/check_in_threads.hpp"

#include <algorithm>
#include <iterator>

#include "core/length_prefixed.hpp"

namespace haven::moderation {

std::string encode_check_in(const CheckInThread& thread) {
    std::string out;
    core::put_length_prefixed(out, thread.room_id);
    core::put_length_prefixed(out, thread.author_subject);
    core::put_length_prefixed(out, thread.moderator_subject);
    return out;
}

std::optional<CheckInThread> decode_check_in(std::string_view bytes, std::uint64_t now_ms) {
    const auto room = core::take_length_prefixed(bytes);
    const auto author = room ? core::take_length_prefixed(bytes) : std::nullopt;
    const auto moderator = author ? core::take_length_prefixed(bytes) : std::nullopt;
    if (!moderator || !bytes.empty() || author->empty() || moderator->empty()) return std::nullopt;
    return CheckInThread{std::string(*room), std::string(*author), std::string(*moderator), now_ms};
}

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
