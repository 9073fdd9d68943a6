#include "moderation/open_queue.hpp"

#include <algorithm>

namespace haven::moderation {

void OpenQueue::load(const std::vector<v1::ModerationItem>& items) {
    open_.clear();
    crisis_by_author_.clear();
    for (const v1::ModerationItem& item : items) apply(item);
}

std::string OpenQueue::author_key(const std::string& room_id, const std::string& subject) {
    std::string key;
    key.reserve(room_id.size() + 1 + subject.size());
    key.append(room_id).push_back('\n');  // neither a room id nor a subject holds one
    key.append(subject);
    return key;
}

void OpenQueue::erase(const std::string& id) {
    const auto found = open_.find(id);
    if (found == open_.end()) return;
    if (!found->second.author_key.empty()) {
        auto [first, last] = crisis_by_author_.equal_range(found->second.author_key);
        for (auto it = first; it != last; ++it) {
            if (it->second == id) {
                crisis_by_author_.erase(it);
                break;
            }
        }
    }
    open_.erase(found);
}

void OpenQueue::apply(const v1::ModerationItem& item) {
    using Item = v1::ModerationItem;
    if (item.kind() == Item::RESOLVED) return erase(item.id());
    if (item.kind() == Item::CLAIMED || item.kind() == Item::ESCALATED ||
        item.kind() == Item::AUTHOR_LEFT) {
        const auto found = open_.find(item.id());
        if (found == open_.end()) return;  // closed meanwhile
        Open& open = found->second;
        if (item.kind() == Item::CLAIMED) {
            open.claimed = true;
            open.claimed_by = item.claimed_by();
            open.claimed_by_subject = item.claimed_by_subject();
        }
        if (item.kind() == Item::AUTHOR_LEFT) open.author_left = true;
        open.escalation = std::max(open.escalation, item.escalation());
        return;
    }
    const bool known = open_.count(item.id()) != 0;
    Open& open = open_[item.id()];
    // A flag item is republished as its count grows: it has waited since the first.
    if (open.time_ms == 0) open.time_ms = item.time_ms();
    open.kind = item.kind();
    open.urgent = open.urgent || item.urgent();
    open.room_id = item.room_id();
    open.escalation = std::max(open.escalation, item.escalation());
    open.author_left = open.author_left || item.left_at_ms() != 0;
    if (!item.claimed_by().empty()) {
        open.claimed = true;
        open.claimed_by = item.claimed_by();
        open.claimed_by_subject = item.claimed_by_subject();
    }
    if (item.kind() == Item::CRISIS || item.kind() == Item::HELD_POST) {
        open.author_subject = item.post().author_subject();
    }
    if (item.kind() == Item::HELD_POST) {
        open.hold_id = item.hold_id();
        open.author_member_id = item.post().author().member_id();
    }
    if (!known && item.kind() == Item::CRISIS && !item.post().author_subject().empty()) {
        open.author_key = author_key(item.room_id(), item.post().author_subject());
        crisis_by_author_.emplace(open.author_key, item.id());
    }
}

std::optional<OpenQueue::AboutWhom> OpenQueue::about_whom(const std::string& id) const {
    const auto found = open_.find(id);
    if (found == open_.end() || found->second.author_subject.empty()) return std::nullopt;
    const Open& open = found->second;
    return AboutWhom{open.room_id, open.author_subject, open.claimed_by, open.claimed_by_subject};
}

std::vector<OpenQueue::CrisisByAuthor> OpenQueue::crisis_by(const std::string& room_id,
                                                            const std::string& subject,
                                                            std::uint64_t since_ms) const {
    std::vector<CrisisByAuthor> raised;
    auto [first, last] = crisis_by_author_.equal_range(author_key(room_id, subject));
    for (auto it = first; it != last; ++it) {
        const Open& open = open_.at(it->second);
        if (open.author_left || open.time_ms < since_ms) continue;
        raised.push_back({it->second, open.time_ms, open.claimed_by, open.claimed_by_subject});
    }
    return raised;
}

std::vector<OpenQueue::Waiting> OpenQueue::on_the_ladder() const {
    std::vector<Waiting> waiting;
    for (const auto& [id, open] : open_) {
        if ((open.urgent || open.kind == v1::ModerationItem::HELD_POST) && !open.claimed) {
            waiting.push_back({id, open.room_id, open.time_ms, open.escalation, open.urgent});
        }
    }
    return waiting;
}

std::vector<OpenQueue::Overdue> OpenQueue::overdue_held(std::uint64_t mine_before_ms,
                                                        std::uint64_t others_before_ms,
                                                        const std::string& instance_prefix) const {
    std::vector<Overdue> overdue;
    for (const auto& [id, open] : open_) {
        if (open.kind != v1::ModerationItem::HELD_POST || open.hold_id.empty()) continue;
        const bool mine = open.author_member_id.rfind(instance_prefix, 0) == 0;
        if (open.time_ms < (mine ? mine_before_ms : others_before_ms)) {
            overdue.push_back({id, open.room_id, open.hold_id});
        }
    }
    return overdue;
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
