#include "rooms/room_list_encoder.hpp"

#include <cstdint>

namespace haven::rooms {
namespace {

// Protobuf wire format: a field key is (number << 3 | wire type), varint-encoded.
constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kLengthDelimited = 2;
constexpr std::uint32_t key(int field_number, std::uint32_t wire_type) {
    return static_cast<std::uint32_t>(field_number) << 3 | wire_type;
}

void append_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>(value | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

std::size_t varint_size(std::uint64_t value) {
    std::size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++size;
    }
    return size;
}

// The `rooms` field of Welcome and the `member_count` field of RoomInfo.
constexpr std::uint32_t kRoomsKey = key(v1::Welcome::kRoomsFieldNumber, kLengthDelimited);
constexpr std::uint32_t kCountKey = key(v1::RoomInfo::kMemberCountFieldNumber, kVarint);
constexpr std::uint32_t kWelcomeKey = key(v1::ServerMessage::kWelcomeFieldNumber, kLengthDelimited);

v1::RoomInfo fixed_info(const config::RoomConfig& room) {
    v1::RoomInfo info;
    info.set_id(room.id);
    info.set_title(room.title);
    info.set_topic(room.topic);
    info.set_kind(std::string(config::to_string(room.kind)));
    info.set_capacity(room.capacity);
    return info;
}

}  // namespace

RoomListEncoder::RoomListEncoder(const RoomDirectory& directory) : directory_(directory) {
    fixed_fields_.reserve(directory.all().size());
    for (const config::RoomConfig& room : directory.all()) {
        fixed_fields_.push_back(fixed_info(room).SerializeAsString());
        fixed_bytes_ += fixed_fields_.back().size();
    }
}

protocol::Frame RoomListEncoder::encode_welcome(v1::ServerMessage& message,
                                                protocol::Encoding encoding) const {
    if (encoding == protocol::Encoding::json) {
        add_rooms(*message.mutable_welcome());
        return protocol::encode_server_frame(message, encoding);
    }
    return std::make_shared<const std::string>(binary_welcome(message));
}

void RoomListEncoder::add_rooms(v1::Welcome& welcome) const {
    const auto& rooms = directory_.all();
    welcome.mutable_rooms()->Reserve(static_cast<int>(rooms.size()));
    for (std::size_t i = 0; i < rooms.size(); ++i) {
        v1::RoomInfo* info = welcome.add_rooms();
        *info = fixed_info(rooms[i]);
        info->set_member_count(directory_.member_count_at(i));
    }
}

std::string RoomListEncoder::binary_welcome(const v1::ServerMessage& message) const {
    // The request id (and anything else outside the body), then the Welcome field by hand.
    v1::ServerMessage envelope;
    envelope.set_request_id(message.request_id());
    const std::string head = envelope.SerializeAsString();
    const std::string welcome = message.welcome().SerializeAsString();

    std::string rooms;
    rooms.reserve(fixed_bytes_ + fixed_fields_.size() * 12);
    for (std::size_t i = 0; i < fixed_fields_.size(); ++i) {
        const std::uint32_t count = directory_.member_count_at(i);
        // proto3 leaves a zero count out, as the generated serialiser would.
        const std::size_t count_bytes = count == 0 ? 0 : 1 + varint_size(count);
        append_varint(rooms, kRoomsKey);
        append_varint(rooms, fixed_fields_[i].size() + count_bytes);
        rooms += fixed_fields_[i];
        if (count != 0) {
            append_varint(rooms, kCountKey);
            append_varint(rooms, count);
        }
    }

    std::string out;
    const std::size_t body = welcome.size() + rooms.size();
    out.reserve(head.size() + 1 + varint_size(body) + body);
    out += head;
    append_varint(out, kWelcomeKey);
    append_varint(out, body);
    out += welcome;
    out += rooms;
    return out;
}

}  // namespace haven::rooms
