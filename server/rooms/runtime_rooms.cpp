#include "rooms/runtime_rooms.hpp"

#include <random>

#include "rooms/room_directory.hpp"

namespace haven::rooms {
namespace {

constexpr std::string_view kRoomPrefix = "room:";

// 48 random bits in hex: ids are never reused, so nothing kept of a closed room (history that
// has not expired yet) can ever reach a new one.
std::string random_suffix() {
    static thread_local std::random_device device;
    std::uint64_t bits = (std::uint64_t{device()} << 32) | device();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 12; ++i, bits >>= 4) out += kHex[bits & 0xF];
    return out;
}

}  // namespace

std::string runtime_room_field(std::string_view room_id) {
    return std::string(kRoomPrefix) + std::string(room_id);
}

v1::RuntimeRoom runtime_room_from_template(const config::RoomConfig& templ, std::string title,
                                           std::string topic, std::uint64_t now_ms) {
    v1::RuntimeRoom room;
    room.set_id(templ.id + "-" + random_suffix());
    room.set_title(title.empty() ? templ.title : std::move(title));
    room.set_topic(topic.empty() ? templ.topic : std::move(topic));
    room.set_template_name(templ.id);
    room.set_kind(std::string(config::to_string(templ.kind)));
    room.set_capacity(templ.capacity);
    room.set_crisis_policy(templ.crisis_policy == config::CrisisPolicy::hold ? "hold" : "deliver");
    room.set_guests(templ.guests);
    room.set_held_unanswered(templ.held_unanswered == config::HeldUnanswered::deliver ? "deliver"
                                                                                      : "reject");
    room.set_opened_ms(now_ms);
    return room;
}

std::optional<config::RoomConfig> room_config(const v1::RuntimeRoom& room) {
    const std::optional<config::RoomKind> kind = config::room_kind_from_string(room.kind());
    if (!kind || room.id().empty() || room.capacity() == 0) return std::nullopt;
    config::RoomConfig out;
    out.id = room.id();
    out.title = room.title();
    out.topic = room.topic();
    out.kind = *kind;
    out.capacity = room.capacity();
    out.crisis_policy =
        room.crisis_policy() == "hold" ? config::CrisisPolicy::hold : config::CrisisPolicy::deliver;
    out.held_unanswered = room.held_unanswered() == "deliver" ? config::HeldUnanswered::deliver
                                                              : config::HeldUnanswered::reject;
    out.guests = room.guests();
    return out;
}

void load_runtime_rooms(const moderation::StateFields& fields, RoomDirectory& directory) {
    for (auto it = fields.lower_bound(std::string(kRoomPrefix));
         it != fields.end() && it->first.compare(0, kRoomPrefix.size(), kRoomPrefix) == 0; ++it) {
        v1::RuntimeRoom room;
        if (!room.ParseFromString(it->second)) continue;
        if (auto config = room_config(room)) directory.open(std::move(*config));
    }
}

}  // namespace haven::rooms
