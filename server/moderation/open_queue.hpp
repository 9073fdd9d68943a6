// The moderation queue counted: every open item by id, from the stored queue read at start
// and each item published after it (RESOLVED closes the one it names, CLAIMED gives it an
// owner, ESCALATED records its step), so /metrics can say what waits for a moderator and for
// how long, and the escalation ladder knows what nobody has answered. Kept by shard 0
// (rooms/server_wide).
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
        std::uint64_t unclaimed_urgent = 0;  // urgent items nobody has claimed yet
    };

    // An open urgent item nobody has claimed: what the escalation ladder looks at.
    struct Waiting {
        std::string id;
        std::string room_id;
        std::uint64_t time_ms = 0;
        std::uint32_t escalation = 0;  // the step reached so far
    };

    // Replaces what is known with the stored queue.
    void load(const std::vector<v1::ModerationItem>& items);
    void apply(const v1::ModerationItem& item);
    Summary summary() const;
    std::vector<Waiting> unclaimed_urgent() const;
    std::size_t size() const { return open_.size(); }

private:
    struct Open {
        v1::ModerationItem::Kind kind = v1::ModerationItem::KIND_UNSPECIFIED;
        bool urgent = false;
        std::uint64_t time_ms = 0;
        std::string room_id;
        bool claimed = false;
        std::uint32_t escalation = 0;
    };
    std::unordered_map<std::string, Open> open_;
};

}  // namespace haven::moderation
