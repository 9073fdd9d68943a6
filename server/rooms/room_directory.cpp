#include "rooms/room_directory.hpp"

#include <algorithm>
#include <functional>
#include <mutex>

namespace haven::rooms {

RoomDirectory::RoomDirectory(std::vector<config::RoomConfig> rooms, unsigned shard_count)
    : rooms_(std::move(rooms)), shard_count_(shard_count == 0 ? 1 : shard_count) {
    for (std::size_t i = 0; i < rooms_.size(); ++i) index_.emplace(rooms_[i].id, i);
    member_counts_.resize(rooms_.size());
}

RoomRef RoomDirectory::find(std::string_view room_id) const {
    if (auto found = index_.find(room_id); found != index_.end()) {
        // No owner: the directory outlives every flow, and copies touch no counter.
        return RoomRef(std::shared_ptr<void>(), &rooms_[found->second]);
    }
    const std::shared_lock lock(runtime_mutex_);
    if (runtime_.empty()) return nullptr;
    auto found = runtime_.find(std::string(room_id));
    if (found == runtime_.end()) return nullptr;
    return RoomRef(found->second, &found->second->config);
}

std::vector<RoomRef> RoomDirectory::runtime_rooms() const {
    const std::shared_lock lock(runtime_mutex_);
    std::vector<RoomRef> rooms;
    rooms.reserve(runtime_order_.size());
    for (const std::string& id : runtime_order_) {
        const auto& room = runtime_.at(id);
        rooms.emplace_back(room, &room->config);
    }
    return rooms;
}

std::size_t RoomDirectory::runtime_count() const {
    const std::shared_lock lock(runtime_mutex_);
    return runtime_.size();
}

bool RoomDirectory::is_runtime(std::string_view room_id) const {
    const std::shared_lock lock(runtime_mutex_);
    return runtime_.count(std::string(room_id)) != 0;
}

bool RoomDirectory::open(config::RoomConfig room) {
    if (index_.count(room.id) != 0) return false;
    const std::unique_lock lock(runtime_mutex_);
    auto entry = std::make_shared<RuntimeRoom>();
    entry->config = std::move(room);
    const std::string id = entry->config.id;
    if (!runtime_.emplace(id, std::move(entry)).second) return false;
    runtime_order_.push_back(id);
    return true;
}

bool RoomDirectory::close(std::string_view room_id) {
    const std::unique_lock lock(runtime_mutex_);
    if (runtime_.erase(std::string(room_id)) == 0) return false;
    runtime_order_.erase(std::find(runtime_order_.begin(), runtime_order_.end(), room_id));
    return true;
}

unsigned RoomDirectory::owner_shard(std::string_view room_id) const {
    return static_cast<unsigned>(std::hash<std::string_view>{}(room_id) % shard_count_);
}

std::uint32_t RoomDirectory::member_count(std::string_view room_id) const {
    if (auto found = index_.find(room_id); found != index_.end()) {
        return member_counts_[found->second].load(std::memory_order_relaxed);
    }
    const std::shared_lock lock(runtime_mutex_);
    auto found = runtime_.find(std::string(room_id));
    return found == runtime_.end() ? 0 : found->second->members.load(std::memory_order_relaxed);
}

void RoomDirectory::publish_member_count(std::string_view room_id, std::uint32_t count) const {
    if (auto found = index_.find(room_id); found != index_.end()) {
        member_counts_[found->second].store(count, std::memory_order_relaxed);
        return;
    }
    const std::shared_lock lock(runtime_mutex_);
    auto found = runtime_.find(std::string(room_id));
    if (found != runtime_.end()) found->second->members.store(count, std::memory_order_relaxed);
}

}  // namespace haven::rooms
