#include "rooms/room_directory.hpp"

#include <functional>

namespace haven::rooms {

RoomDirectory::RoomDirectory(std::vector<config::RoomConfig> rooms, unsigned shard_count)
    : rooms_(std::move(rooms)), shard_count_(shard_count == 0 ? 1 : shard_count) {
    for (std::size_t i = 0; i < rooms_.size(); ++i) index_.emplace(rooms_[i].id, i);
    member_counts_.resize(rooms_.size());
}

const config::RoomConfig* RoomDirectory::find(std::string_view room_id) const {
    auto found = index_.find(room_id);
    return found == index_.end() ? nullptr : &rooms_[found->second];
}

unsigned RoomDirectory::owner_shard(std::string_view room_id) const {
    return static_cast<unsigned>(std::hash<std::string_view>{}(room_id) % shard_count_);
}

std::uint32_t RoomDirectory::member_count(std::string_view room_id) const {
    auto found = index_.find(room_id);
    if (found == index_.end()) return 0;
    return member_counts_[found->second].load(std::memory_order_relaxed);
}

void RoomDirectory::publish_member_count(std::string_view room_id, std::uint32_t count) const {
    auto found = index_.find(room_id);
    if (found != index_.end()) {
        member_counts_[found->second].store(count, std::memory_order_relaxed);
    }
}

}  // namespace haven::rooms
