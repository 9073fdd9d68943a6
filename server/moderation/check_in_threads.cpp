#include "moderation/check_in_threads.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace haven::moderation {
namespace {

// Each field as its length, ':' and its bytes: a subject may hold any character.
void put_field(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

std::optional<std::string> take_field(std::string_view& in) {
    const std::size_t colon = in.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::size_t size = 0;
    const auto [end, error] = std::from_chars(in.data(), in.data() + colon, size);
    if (error != std::errc{} || end != in.data() + colon || in.size() - colon - 1 < size) {
        return std::nullopt;
    }
    std::string field(in.substr(colon + 1, size));
    in.remove_prefix(colon + 1 + size);
    return field;
}

}  // namespace

std::string encode_check_in(const CheckInThread& thread) {
    std::string out;
    put_field(out, thread.room_id);
    put_field(out, thread.author_subject);
    put_field(out, thread.moderator_subject);
    return out;
}

std::optional<CheckInThread> decode_check_in(std::string_view bytes, std::uint64_t now_ms) {
    auto room = take_field(bytes);
    auto author = room ? take_field(bytes) : std::nullopt;
    auto moderator = author ? take_field(bytes) : std::nullopt;
    if (!moderator || !bytes.empty() || author->empty() || moderator->empty()) return std::nullopt;
    return CheckInThread{std::move(*room), std::move(*author), std::move(*moderator), now_ms};
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
