#include "moderation/open_queue.hpp"

#include <algorithm>

namespace haven::moderation {

void OpenQueue::load(const std::vector<v1::ModerationItem>& items) {
    open_.clear();
    for (const v1::ModerationItem& item : items) apply(item);
}

void OpenQueue::apply(const v1::ModerationItem& item) {
    if (item.kind() == v1::ModerationItem::RESOLVED) {
        open_.erase(item.id());
        return;
    }
    if (item.kind() == v1::ModerationItem::CLAIMED ||
        item.kind() == v1::ModerationItem::ESCALATED) {
        const auto found = open_.find(item.id());
        if (found == open_.end()) return;  // closed meanwhile
        if (item.kind() == v1::ModerationItem::CLAIMED) found->second.claimed = true;
        found->second.escalation = std::max(found->second.escalation, item.escalation());
        return;
    }
    Open& open = open_[item.id()];
    // A flag item is republished as its count grows: it has waited since the first.
    const std::uint64_t since = open.time_ms != 0 ? open.time_ms : item.time_ms();
    open = Open{item.kind(),
                item.urgent() || open.urgent,
                since,
                item.room_id(),
                open.claimed || !item.claimed_by().empty(),
                std::max(open.escalation, item.escalation())};
}

std::vector<OpenQueue::Waiting> OpenQueue::unclaimed_urgent() const {
    std::vector<Waiting> waiting;
    for (const auto& [id, open] : open_) {
        if (open.urgent && !open.claimed) {
            waiting.push_back({id, open.room_id, open.time_ms, open.escalation});
        }
    }
    return waiting;
}

OpenQueue::Summary OpenQueue::summary() const {
    Summary summary;
    for (const auto& [id, open] : open_) {
        if (open.urgent) {
            ++summary.urgent;
            if (!open.claimed) ++summary.unclaimed_urgent;
            if (summary.oldest_urgent_ms == 0 || open.time_ms < summary.oldest_urgent_ms) {
                summary.oldest_urgent_ms = open.time_ms;
            }
        } else if (open.kind == v1::ModerationItem::HELD_POST) {
            ++summary.held;
        } else {
            ++summary.flagged;
        }
    }
    return summary;
}

}  // namespace haven::moderation
