#include "rooms/room_list_encoder.hpp"

#include <cstdint>
#include <utility>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "core/clock.hpp"

namespace haven::rooms {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

// The `welcome` field of ServerMessage, the `rooms` field of Welcome and the `member_count`
// field of RoomInfo, as they appear on the wire.
const std::uint32_t kWelcomeTag = WireFormatLite::MakeTag(
    v1::ServerMessage::kWelcomeFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
const std::uint32_t kRoomsTag = WireFormatLite::MakeTag(v1::Welcome::kRoomsFieldNumber,
                                                        WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
const std::uint32_t kCountTag =
    WireFormatLite::MakeTag(v1::RoomInfo::kMemberCountFieldNumber, WireFormatLite::WIRETYPE_VARINT);
const std::uint32_t kNextMeetingTag = WireFormatLite::MakeTag(
    v1::RoomInfo::kNextMeetingFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);

}  // namespace

v1::RoomInfo room_info(const config::RoomConfig& room) {
    v1::RoomInfo info;
    info.set_id(room.id);
    info.set_title(room.title);
    info.set_topic(room.topic);
    info.set_kind(std::string(config::to_string(room.kind)));
    info.set_capacity(room.capacity);
    info.set_sign_in_required(!room.guests);
    if (room.agreements) info.set_agreements_version(room.agreements->version);
    return info;
}

std::optional<v1::MeetingTimes> meeting_times(const meetings::MeetingSchedule& schedule,
                                              std::uint64_t now_ms) {
    const std::optional<meetings::Occurrence> next = schedule.current_or_next(now_ms);
    if (!next) return std::nullopt;
    v1::MeetingTimes times;
    times.set_doors_open_ms(next->doors_open_ms);
    times.set_start_ms(next->start_ms);
    times.set_late_entry_until_ms(next->late_entry_until_ms);
    times.set_end_ms(next->end_ms);
    times.set_time_zone(schedule.time_zone());
    return times;
}

RoomListEncoder::RoomListEncoder(const RoomDirectory& directory) : directory_(directory) {
    fixed_fields_.reserve(directory.all().size());
    schedules_.reserve(directory.all().size());
    for (const config::RoomConfig& room : directory.all()) {
        fixed_fields_.push_back(room_info(room).SerializeAsString());
        schedules_.emplace_back();
        if (room.schedule) schedules_.back().emplace(*room.schedule);
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
        *info = room_info(rooms[i]);
        info->set_member_count(directory_.member_count_at(i));
        if (!schedules_[i]) continue;
        if (auto next = meeting_times(*schedules_[i], core::wall_ms())) {
            *info->mutable_next_meeting() = std::move(*next);
        }
    }
}

std::string RoomListEncoder::binary_welcome(const v1::ServerMessage& message) const {
    // Other shards publish member counts meanwhile: each is read once, for sizing and writing.
    std::vector<std::uint32_t> counts(fixed_fields_.size());
    std::vector<std::size_t> room_sizes(fixed_fields_.size());
    std::vector<std::string> next_meetings(fixed_fields_.size());  // serialised, or empty
    const std::uint64_t now_ms = core::wall_ms();
    std::size_t rooms_bytes = 0;
    for (std::size_t i = 0; i < fixed_fields_.size(); ++i) {
        counts[i] = directory_.member_count_at(i);
        if (schedules_[i]) {
            if (auto next = meeting_times(*schedules_[i], now_ms)) {
                next_meetings[i] = next->SerializeAsString();
            }
        }
        // proto3 leaves a zero count out, as the generated serialiser would.
        room_sizes[i] = fixed_fields_[i].size() +
                        (counts[i] == 0 ? 0
                                        : CodedOutputStream::VarintSize32(kCountTag) +
                                              CodedOutputStream::VarintSize32(counts[i])) +
                        (next_meetings[i].empty()
                             ? 0
                             : CodedOutputStream::VarintSize32(kNextMeetingTag) +
                                   CodedOutputStream::VarintSize64(next_meetings[i].size()) +
                                   next_meetings[i].size());
        rooms_bytes += CodedOutputStream::VarintSize32(kRoomsTag) +
                       CodedOutputStream::VarintSize64(room_sizes[i]) + room_sizes[i];
    }
    v1::ServerMessage envelope;  // the request id: everything outside the body
    envelope.set_request_id(message.request_id());
    const v1::Welcome& welcome = message.welcome();
    const std::size_t body = welcome.ByteSizeLong() + rooms_bytes;

    std::string out;
    out.reserve(envelope.ByteSizeLong() + 16 + body);
    {
        google::protobuf::io::StringOutputStream stream(&out);
        CodedOutputStream coded(&stream);
        envelope.SerializeToCodedStream(&coded);
        coded.WriteTag(kWelcomeTag);
        coded.WriteVarint64(body);
        welcome.SerializeWithCachedSizes(&coded);  // sized by ByteSizeLong above
        for (std::size_t i = 0; i < fixed_fields_.size(); ++i) {
            coded.WriteTag(kRoomsTag);
            coded.WriteVarint64(room_sizes[i]);
            coded.WriteString(fixed_fields_[i]);
            if (counts[i] != 0) {
                coded.WriteTag(kCountTag);
                coded.WriteVarint32(counts[i]);
            }
            if (!next_meetings[i].empty()) {
                coded.WriteTag(kNextMeetingTag);
                coded.WriteVarint64(next_meetings[i].size());
                coded.WriteString(next_meetings[i]);
            }
        }
    }
    return out;
}

}  // namespace haven::rooms
