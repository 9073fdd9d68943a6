#include "rooms/room.hpp"

#include "rooms/room_list_encoder.hpp"

namespace haven::rooms {

Room::Room(RoomRef config, unsigned shard_count)
    : config_(std::move(config)), members_per_shard_(shard_count, 0) {
    if (config_->schedule) schedule_.emplace(*config_->schedule);
}

std::vector<std::uint64_t> Room::session_ids() const {
    std::vector<std::uint64_t> ids;
    ids.reserve(members_.size());
    for (const auto& [session_id, record] : members_) ids.push_back(session_id);
    return ids;
}

const MemberRecord* Room::find(std::uint64_t session_id) const {
    auto found = members_.find(session_id);
    return found == members_.end() ? nullptr : &found->second;
}

bool Room::add(std::uint64_t session_id, MemberRecord record) {
    const unsigned shard = record.shard;
    const bool json = record.encoding == protocol::Encoding::json;
    if (!members_.emplace(session_id, std::move(record)).second) return false;
    if (json) ++json_members_;
    if (members_per_shard_[shard]++ == 0) recount_shards();
    return true;
}

std::optional<MemberRecord> Room::remove(std::uint64_t session_id) {
    auto found = members_.find(session_id);
    if (found == members_.end()) return std::nullopt;
    MemberRecord record = std::move(found->second);
    members_.erase(found);
    if (record.encoding == protocol::Encoding::json) --json_members_;
    if (--members_per_shard_[record.shard] == 0) recount_shards();
    return record;
}

std::vector<std::uint64_t> Room::sessions_of(const std::string& subject) const {
    std::vector<std::uint64_t> out;
    for (const auto& [session_id, record] : members_) {
        if (record.subject == subject) out.push_back(session_id);
    }
    return out;
}

void Room::recount_shards() {
    active_shards_.clear();
    for (unsigned shard = 0; shard < members_per_shard_.size(); ++shard) {
        if (members_per_shard_[shard] > 0) active_shards_.push_back(shard);
    }
}

void Room::fill_info(v1::RoomInfo& out, std::uint32_t member_count) const {
    out = room_info(*config_);
    out.set_member_count(member_count);
    if (schedule_) {
        if (auto next = meeting_times(*schedule_, core::wall_ms())) {
            *out.mutable_next_meeting() = std::move(*next);
        }
    }
}

}  // namespace haven::rooms
