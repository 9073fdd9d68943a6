// The rooms this server hosts and which shard owns each: the rooms of the configuration, fixed
// for the process's life, and rooms opened and closed at run time (the admin API), the same on
// every instance.
//
// Shared by every shard. The configured rooms are read without locks; a lookup that misses
// them takes a shared lock on the run-time rooms. A room is handed out as a RoomRef, which
// keeps its configuration alive while a flow holds it, even if the room closes meanwhile
// (configured rooms live as long as the directory and cost no reference counting).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"

namespace haven::rooms {

using RoomRef = std::shared_ptr<const config::RoomConfig>;

class RoomDirectory {
public:
    RoomDirectory(std::vector<config::RoomConfig> rooms, unsigned shard_count);

    // Nothing when no room has this id (or it was closed).
    RoomRef find(std::string_view room_id) const;
    // The configured rooms: what every Welcome lists.
    const std::vector<config::RoomConfig>& all() const { return rooms_; }
    // The rooms open now that were opened at run time, in the order they opened.
    std::vector<RoomRef> runtime_rooms() const;
    std::size_t runtime_count() const;
    bool is_runtime(std::string_view room_id) const;

    // Adds a room opened at run time; false when a room with its id exists.
    bool open(config::RoomConfig room);
    // Removes a room opened at run time; false when there is none with this id.
    bool close(std::string_view room_id);

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
    struct RuntimeRoom {
        config::RoomConfig config;
        std::atomic<std::uint32_t> members{0};
    };

    std::vector<config::RoomConfig> rooms_;
    std::unordered_map<std::string_view, std::size_t> index_;  // views into rooms_
    unsigned shard_count_;
    mutable std::deque<std::atomic<std::uint32_t>> member_counts_;  // parallel to rooms_

    mutable std::shared_mutex runtime_mutex_;
    std::unordered_map<std::string, std::shared_ptr<RuntimeRoom>> runtime_;
    std::vector<std::string> runtime_order_;  // ids, oldest first
};

}  // namespace haven::rooms
