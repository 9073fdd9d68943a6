#include "moderation/followup_watch.hpp"

namespace haven::moderation {

void FollowupWatch::departed(Departure departure) {
    auto key = std::pair{departure.room_id, departure.subject};
    waiting_.insert_or_assign(std::move(key), std::move(departure));
}

std::vector<Departure> FollowupWatch::take_due(std::uint64_t now_ms) {
    std::vector<Departure> due;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (it->second.left_at_ms + grace_ms_ <= now_ms) {
            due.push_back(std::move(it->second));
            it = waiting_.erase(it);
        } else {
            ++it;
        }
    }
    return due;
}

}  // namespace haven::moderation
