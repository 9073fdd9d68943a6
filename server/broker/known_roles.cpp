#include "broker/known_roles.hpp"

#include <algorithm>

namespace haven::broker {

void KnownRoles::record(const std::string& subject, const KnownRole& seen, std::uint64_t now_ms) {
    auto [it, inserted] = entries_.try_emplace(subject);
    Entry& entry = it->second;
    if (!inserted) {
        // Moves the person to the newest end of the forgetting order.
        auto range = by_seen_.equal_range(entry.seen_ms);
        for (auto at = range.first; at != range.second; ++at) {
            if (at->second == subject) {
                by_seen_.erase(at);
                break;
            }
        }
        // A role not seen within the memory time no longer protects anyone.
        if (entry.seen_ms + ttl_ms_ < now_ms) entry.role = KnownRole{};
    }
    entry.role.role = std::max(entry.role.role, seen.role);
    for (const auto& [room, role] : seen.room_roles) {
        v1::Role& kept = entry.role.room_roles[room];
        kept = std::max(kept, role);
    }
    entry.seen_ms = now_ms;
    by_seen_.emplace(now_ms, subject);
    while (entries_.size() > max_entries_) forget_oldest();
}

std::optional<KnownRole> KnownRoles::find(const std::string& subject, std::uint64_t now_ms) const {
    auto found = entries_.find(subject);
    if (found == entries_.end() || found->second.seen_ms + ttl_ms_ < now_ms) return std::nullopt;
    return found->second.role;
}

void KnownRoles::forget_oldest() {
    auto oldest = by_seen_.begin();
    entries_.erase(oldest->second);
    by_seen_.erase(oldest);
}

}  // namespace haven::broker
