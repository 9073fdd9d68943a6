// The moderation queue counted: every open item by id, from the stored queue read at start
// and each item published after it (RESOLVED closes the one it names), so /metrics can say
// what waits for a moderator and for how long. Kept by shard 0 (rooms/server_wide).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "haven.pb.h"

namespace haven::moderation {

class OpenQueue {
public:
    // Disjoint counts: urgent items first (crisis, crisis flags), then held posts, then flags.
    struct Summary {
        std::uint64_t urgent = 0;
        std::uint64_t held = 0;
        std::uint64_t flagged = 0;
        std::uint64_t oldest_urgent_ms = 0;  // wall time; 0 when none is open
    };

    // Replaces what is known with the stored queue.
    void load(const std::vector<v1::ModerationItem>& items);
    void apply(const v1::ModerationItem& item);
    Summary summary() const;
    std::size_t size() const { return open_.size(); }

private:
    struct Open {
        v1::ModerationItem::Kind kind = v1::ModerationItem::KIND_UNSPECIFIED;
        bool urgent = false;
        std::uint64_t time_ms = 0;
    };
    std::unordered_map<std::string, Open> open_;
};

}  // namespace haven::moderation
