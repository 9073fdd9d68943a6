// What every shard shares and nobody changes after start-up: configuration, the room
// directory, token verification. Counters are the one exception, written per shard.
#pragma once

#include <string>

#include "auth/guest_pass.hpp"
#include "auth/jwt.hpp"
#include "config/config.hpp"
#include "core/metrics.hpp"
#include "moderation/crisis_detector.hpp"
#include "rooms/room_directory.hpp"

namespace haven::core {

struct ServerContext {
    const config::Config& config;
    const rooms::RoomDirectory& directory;
    const auth::JwtVerifier& tokens;
    const auth::GuestPasses& guest_passes;
    core::Metrics& metrics;
    std::string instance_id;  // short random id, unique per process, prefixes session ids
    const moderation::CrisisDetector* crisis = nullptr;  // null: detection off
};

}  // namespace haven::core
