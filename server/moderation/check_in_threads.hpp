// Reach out: the private conversations between a moderator and the person an alert is about,
// as each instance learns them from the moderators' check-ins that pass through it. Says who
// may answer a conversation and to whom the answer goes. Pure state with the time passed in;
// bounded by a count (the least recently used go first) and by idle time.
//
// Owned by shard 0 (rooms/server_wide).
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace haven::moderation {

struct CheckInThread {
    std::string room_id;
    std::string author_subject;     // the person the alert is about: the one who may answer
    std::string moderator_subject;  // who wrote to them: where the answers go
    std::uint64_t last_ms = 0;
};

// A conversation as the broker keeps it for instances that did not see it start (last_ms is
// not kept: the broker's expiry stands for it), and back; nullopt for bytes not made here.
std::string encode_check_in(const CheckInThread& thread);
std::optional<CheckInThread> decode_check_in(std::string_view bytes, std::uint64_t now_ms);

class CheckInThreads {
public:
    CheckInThreads(std::size_t capacity, std::uint64_t idle_ms)
        : capacity_(capacity), idle_ms_(idle_ms) {}

    // A moderator wrote in `thread_id` (again): the thread is theirs from now on.
    void wrote(const std::string& thread_id, CheckInThread thread);
    // The thread, while it has not been idle too long; any message in it keeps it alive.
    std::optional<CheckInThread> find(const std::string& thread_id, std::uint64_t now_ms);
    void touch(const std::string& thread_id, std::uint64_t now_ms);
    std::size_t size() const { return threads_.size(); }

private:
    struct Entry {
        CheckInThread thread;
        std::list<std::string>::iterator recency;
    };
    std::size_t capacity_;
    std::uint64_t idle_ms_;
    std::unordered_map<std::string, Entry> threads_;
    std::list<std::string> recency_;  // least recently used first
};

}  // namespace haven::moderation
