// The rooms this server hosts, from the configuration, and which shard owns each.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"

namespace haven::rooms {

class RoomDirectory {
public:
    RoomDirectory(std::vector<config::RoomConfig> rooms, unsigned shard_count);

    const config::RoomConfig* find(std::string_view room_id) const;
    const std::vector<config::RoomConfig>& all() const { return rooms_; }
    // The shard that holds the room's authoritative state. Stable for the process's life.
    unsigned owner_shard(std::string_view room_id) const;

    // Published member counts, for room lists. Written only by the room's owner shard.
    std::uint32_t member_count(std::string_view room_id) const;
    void publish_member_count(std::string_view room_id, std::uint32_t count) const;
    // The count of all()[index].
    std::uint32_t member_count_at(std::size_t index) const {
        return member_counts_[index].load(std::memory_order_relaxed);
    }

private:
    std::vector<config::RoomConfig> rooms_;
    std::unordered_map<std::string_view, std::size_t> index_;  // views into rooms_
    unsigned shard_count_;
    mutable std::deque<std::atomic<std::uint32_t>> member_counts_;  // parallel to rooms_
};

}  // namespace haven::rooms
