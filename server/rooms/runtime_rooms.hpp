// Rooms opened at run time, as the broker keeps them: one field of the server-wide state per
// open room ("room:<id>" -> a serialised RuntimeRoom), so an instance that starts later, or
// reconnects, finds the same rooms as the others.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "haven.pb.h"
#include "moderation/moderation_state.hpp"

namespace haven::rooms {

class RoomDirectory;

std::string runtime_room_field(std::string_view room_id);

// A new room from `templ` (a [[room_templates]] entry): its id is the template's followed by
// a random suffix, so no two rooms ever share one, and title and topic default to the
// template's.
v1::RuntimeRoom runtime_room_from_template(const config::RoomConfig& templ, std::string title,
                                           std::string topic, std::uint64_t now_ms);

// The room's configuration; nothing when the record does not make a valid room.
std::optional<config::RoomConfig> room_config(const v1::RuntimeRoom& room);

// Opens in `directory` every room the server-wide state holds.
void load_runtime_rooms(const moderation::StateFields& fields, RoomDirectory& directory);

}  // namespace haven::rooms
