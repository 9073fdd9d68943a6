// What every shard shares and nobody changes after start-up: configuration, the room
// directory, token verification. Counters are the one exception, written per shard.
#pragma once

#include <string>

#include "config/config.hpp"
#include "core/metrics.hpp"

// Named only: core sits below the layers these come from, which include what they use.
namespace haven::auth {
class JwtVerifier;
class GuestPasses;
class HandlePolicy;
}  // namespace haven::auth
namespace haven::moderation {
class CrisisDetector;
}
namespace haven::rooms {
class RoomDirectory;
}

namespace haven::core {

class AddressLimits;

struct ServerContext {
    const config::Config& config;
    rooms::RoomDirectory& directory;  // rooms open and close at run time: it locks inside
    const auth::JwtVerifier& tokens;
    const auth::GuestPasses& guest_passes;
    core::Metrics& metrics;
    std::string instance_id;  // short random id, unique per process, prefixes session ids
    const moderation::CrisisDetector* crisis = nullptr;  // null: detection off
    const auth::HandlePolicy* handles = nullptr;         // null: no reserved words
    AddressLimits* addresses = nullptr;  // shared by every shard; null: no per-address limits
};

}  // namespace haven::core
