// A room's authoritative state, owned by the room's owner shard and touched only there:
// who is in it, on which shard each member's connection lives, and which encodings they use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "haven.pb.h"
#include "protocol/codec.hpp"

namespace haven::rooms {

struct MemberRecord {
    v1::Member member;    // as others see it
    std::string subject;  // the author identity retried posts are recognised by
    unsigned shard = 0;
    protocol::Encoding encoding = protocol::Encoding::binary;
};

class Room {
public:
    Room(const config::RoomConfig& config, unsigned shard_count);

    const config::RoomConfig& config() const { return config_; }
    bool full() const { return members_.size() >= config_.capacity; }
    bool empty() const { return members_.empty(); }
    std::size_t size() const { return members_.size(); }
    bool contains(std::uint64_t session_id) const { return members_.count(session_id) != 0; }
    const MemberRecord* find(std::uint64_t session_id) const;

    // Returns false when the session is already a member.
    bool add(std::uint64_t session_id, MemberRecord record);
    // Returns the removed record's member, or nothing when it was not a member.
    std::optional<v1::Member> remove(std::uint64_t session_id);

    // Shards with at least one local member: where events must go.
    const std::vector<unsigned>& shards_with_members() const { return active_shards_; }
    bool has_json_members() const { return json_members_ > 0; }

    void fill_members(google::protobuf::RepeatedPtrField<v1::Member>& out) const;
    void fill_info(v1::RoomInfo& out) const;

private:
    void recount_shards();

    const config::RoomConfig& config_;
    std::unordered_map<std::uint64_t, MemberRecord> members_;
    std::vector<std::uint32_t> members_per_shard_;
    std::vector<unsigned> active_shards_;
    std::size_t json_members_ = 0;
};

}  // namespace haven::rooms
