// The embedded broker's memory of people's roles (broker::KnownRole), on shard 0: bounded in
// entries, each forgotten a while after its person was last seen. The Redis broker keeps the
// same in Redis, with an expiry per person.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "broker/broker.hpp"

namespace haven::broker {

struct RoleMemory {
    std::uint64_t ttl_ms = 90ull * 24 * 3600 * 1000;  // moderation.role_memory_days
    std::size_t max_entries = 100'000;                // moderation.max_known_roles
};

class KnownRoles {
public:
    explicit KnownRoles(RoleMemory limits)
        : ttl_ms_(limits.ttl_ms), max_entries_(limits.max_entries) {}

    // Keeps the higher of each role already known and `seen`; `now_ms` is the time seen.
    void record(const std::string& subject, const KnownRole& seen, std::uint64_t now_ms);
    std::optional<KnownRole> find(const std::string& subject, std::uint64_t now_ms) const;
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        KnownRole role;
        std::uint64_t seen_ms = 0;
    };
    void forget_oldest();

    std::uint64_t ttl_ms_;
    std::size_t max_entries_;
    std::unordered_map<std::string, Entry> entries_;
    std::multimap<std::uint64_t, std::string> by_seen_;  // seen time -> subject
};

}  // namespace haven::broker
