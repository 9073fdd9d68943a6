#include "rooms/room_presence.hpp"

#include <algorithm>

namespace haven::rooms {

void RoomPresence::reset(const std::vector<v1::Member>& members, std::uint64_t version) {
    clear();
    known_ = true;
    version_ = complete_through_ = version;
    for (const v1::Member& member : members) {
        if (members_.emplace(member.member_id(), member).second) arrived(member.member_id());
    }
}

void RoomPresence::clear() {
    known_ = false;
    version_ = complete_through_ = 0;
    members_.clear();
    recent_.clear();
    arrival_.clear();
}

void RoomPresence::arrived(const std::string& member_id) {
    arrival_.emplace(member_id, ++arrivals_);
}

void RoomPresence::put(const v1::Member& member, bool joined) {
    if (joined) {
        if (members_.insert_or_assign(member.member_id(), member).second) {
            arrived(member.member_id());
        }
    } else {
        members_.erase(member.member_id());
        arrival_.erase(member.member_id());
    }
}

RoomPresence::Verdict RoomPresence::apply(const v1::Event& event) {
    const std::uint64_t version = event.presence_version();
    if (!known_) return Verdict::stale;
    const bool joined = event.has_member_joined();
    const v1::Member& member =
        joined ? event.member_joined().member() : event.member_left().member();
    if (version == 0) {
        if (joined == (members_.count(member.member_id()) != 0)) return Verdict::stale;
        put(member, joined);
        complete_through_ = std::min(complete_through_, version_ > 0 ? version_ - 1 : 0);
        return Verdict::gap;
    }
    if (version <= version_) return Verdict::stale;
    put(member, joined);
    record(version, joined, member);
    if (complete_through_ == version_ && version == version_ + 1) complete_through_ = version;
    version_ = version;
    return has_gap() ? Verdict::gap : Verdict::applied;
}

void RoomPresence::record(std::uint64_t version, bool joined, const v1::Member& member) {
    recent_.push_back(Change{version, joined, member});
    if (recent_.size() > kRecentChanges) recent_.pop_front();
}

std::vector<v1::Event> RoomPresence::resync(const std::string& room_id,
                                            const std::vector<v1::Member>& members,
                                            std::uint64_t version, std::uint64_t now_ms,
                                            bool* taken) {
    if (taken != nullptr) *taken = false;
    if (!known_) return {};
    // Too old to bring forward: the changes since it are no longer all kept.
    if (version < version_ && (recent_.empty() || recent_.front().version > version + 1)) {
        return {};
    }
    if (taken != nullptr) *taken = true;
    std::map<std::string, v1::Member> fresh;
    for (const v1::Member& member : members) fresh.emplace(member.member_id(), member);
    std::uint64_t complete = version;
    if (version < version_) {
        // The snapshot was taken before changes this view has seen: replay them onto it. It
        // is complete when every version after the snapshot's is among them.
        std::uint64_t expected = version + 1;
        for (const Change& change : recent_) {
            if (change.version <= version) continue;
            if (change.version == expected) ++expected;
            if (change.joined) {
                fresh[change.member.member_id()] = change.member;
            } else {
                fresh.erase(change.member.member_id());
            }
        }
        complete = expected - 1;
    }
    std::vector<v1::Event> corrections;
    const auto correction = [&](const v1::Member& member, bool joined) {
        v1::Event& event = corrections.emplace_back();
        event.set_room_id(room_id);
        event.set_time_ms(now_ms);
        event.set_presence_version(std::max(version, version_));  // the view's, once taken
        *(joined ? event.mutable_member_joined()->mutable_member()
                 : event.mutable_member_left()->mutable_member()) = member;
    };
    for (const auto& [id, member] : members_) {
        if (fresh.count(id) == 0) correction(member, false);
    }
    for (const auto& [id, member] : fresh) {
        auto found = members_.find(id);
        if (found == members_.end()) correction(member, true);
    }
    members_ = std::move(fresh);
    for (auto it = arrival_.begin(); it != arrival_.end();) {
        it = members_.count(it->first) != 0 ? std::next(it) : arrival_.erase(it);
    }
    for (const auto& [id, member] : members_) {
        if (arrival_.count(id) == 0) arrived(id);
    }
    if (version >= version_) {
        version_ = version;
        recent_.clear();
    }
    complete_through_ = std::max(complete_through_, std::min(complete, version_));
    return corrections;
}

std::vector<v1::Member> RoomPresence::members() const {
    std::vector<v1::Member> out;
    out.reserve(members_.size());
    for (const auto& [id, member] : members_) out.push_back(member);
    return out;
}

std::vector<v1::Member> RoomPresence::members_by_arrival() const {
    std::vector<std::pair<std::uint64_t, const v1::Member*>> order;
    order.reserve(members_.size());
    for (const auto& [id, member] : members_) {
        const auto found = arrival_.find(id);
        order.emplace_back(found == arrival_.end() ? 0 : found->second, &member);
    }
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first
                                  : a.second->member_id() < b.second->member_id();
    });
    std::vector<v1::Member> out;
    out.reserve(order.size());
    for (const auto& entry : order) out.push_back(*entry.second);
    return out;
}

}  // namespace haven::rooms
