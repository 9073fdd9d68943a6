#include "core/address_limits.hpp"

#include <utility>

namespace haven::core {

using Clock = TokenBucket::Clock;

AddressLimits::AddressLimits(const config::LimitsConfig& limits)
    : limits_(limits), guest_refill_(std::chrono::hours(1)) {}

// ---- Lease -------------------------------------------------------------------------------

AddressLimits::Lease::Lease(Lease&& other) noexcept
    : table_(std::exchange(other.table_, nullptr)),
      entry_(std::exchange(other.entry_, nullptr)),
      key_(std::move(other.key_)),
      upgrading_(std::exchange(other.upgrading_, false)),
      buffered_(std::exchange(other.buffered_, 0)) {}

AddressLimits::Lease& AddressLimits::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        table_ = std::exchange(other.table_, nullptr);
        entry_ = std::exchange(other.entry_, nullptr);
        key_ = std::move(other.key_);
        upgrading_ = std::exchange(other.upgrading_, false);
        buffered_ = std::exchange(other.buffered_, 0);
    }
    return *this;
}

AddressLimits::Lease::~Lease() {
    release();
}

void AddressLimits::Lease::release() {
    if (table_ == nullptr) return;
    std::lock_guard lock(table_->mutex_);
    entry_->connections -= 1;
    if (upgrading_) entry_->upgrading -= 1;
    entry_->buffered -= buffered_;
    table_->forget_if_idle(key_, *entry_, Clock::now());
    table_ = nullptr;
    entry_ = nullptr;
}

void AddressLimits::Lease::upgraded() {
    if (table_ == nullptr || !upgrading_) return;
    std::lock_guard lock(table_->mutex_);
    entry_->upgrading -= 1;
    upgrading_ = false;
}

bool AddressLimits::Lease::hold_buffered(std::size_t bytes) {
    if (table_ == nullptr || bytes == buffered_) return true;
    std::lock_guard lock(table_->mutex_);
    const std::uint64_t others = entry_->buffered - buffered_;
    if (bytes > buffered_ && others + bytes > table_->limits_.address_buffer_bytes) return false;
    entry_->buffered = others + bytes;
    buffered_ = bytes;
    return true;
}

// ---- the table ---------------------------------------------------------------------------

std::pair<Refusal, AddressLimits::Lease> AddressLimits::open(std::string key) {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    Entry* entry = find_or_add(key, now);
    if (entry == nullptr) return {Refusal::address_table_full, Lease{}};
    if (entry->connections >= limits_.connections_per_address) {
        return {Refusal::connections_per_address, Lease{}};
    }
    if (entry->upgrading >= limits_.upgrades_per_address) {
        return {Refusal::upgrades_per_address, Lease{}};
    }
    entry->connections += 1;
    entry->upgrading += 1;
    Lease lease;
    lease.table_ = this;
    lease.entry_ = entry;
    lease.key_ = std::move(key);
    lease.upgrading_ = true;
    return {Refusal::none, std::move(lease)};
}

Refusal AddressLimits::reattribute(Lease& lease, std::string key) {
    if (lease.key_ == key) return Refusal::none;
    const auto now = Clock::now();
    Lease moved;
    {
        std::lock_guard lock(mutex_);
        Entry* entry = find_or_add(key, now);
        if (entry == nullptr) return Refusal::address_table_full;
        if (entry->connections >= limits_.connections_per_address) {
            return Refusal::connections_per_address;
        }
        entry->connections += 1;
        moved.table_ = this;
        moved.entry_ = entry;
        moved.key_ = std::move(key);
    }
    lease = std::move(moved);  // releases the proxy's count
    return Refusal::none;
}

std::pair<Refusal, std::chrono::milliseconds> AddressLimits::take_new_guest(const std::string& key,
                                                                            Clock::time_point now) {
    if (key.empty()) return {Refusal::none, {}};
    std::lock_guard lock(mutex_);
    Entry* entry = find_or_add(key, now);
    if (entry == nullptr) return {Refusal::address_table_full, std::chrono::seconds(60)};
    if (!entry->new_guests.try_take(now)) {
        return {Refusal::new_guests_per_address, entry->new_guests.wait_time(now)};
    }
    entry->last_guest = now;
    return {Refusal::none, {}};
}

std::size_t AddressLimits::tracked_addresses() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

AddressLimits::Entry* AddressLimits::find_or_add(const std::string& key, Clock::time_point now) {
    auto found = entries_.find(key);
    if (found != entries_.end()) return &found->second;
    if (entries_.size() >= limits_.max_tracked_addresses) sweep(now);
    if (entries_.size() >= limits_.max_tracked_addresses) return nullptr;
    const double per_hour = limits_.new_guests_per_address_per_hour;
    Entry entry{0, 0, 0, TokenBucket(per_hour / 3600.0, per_hour), {}};
    return &entries_.emplace(key, std::move(entry)).first->second;
}

void AddressLimits::sweep(Clock::time_point now) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        const Entry& entry = it->second;
        const bool idle = entry.connections == 0 && (entry.last_guest == Clock::time_point{} ||
                                                     now - entry.last_guest >= guest_refill_);
        it = idle ? entries_.erase(it) : std::next(it);
    }
}

void AddressLimits::forget_if_idle(const std::string& key, Entry& entry, Clock::time_point now) {
    if (entry.connections != 0) return;
    if (entry.last_guest != Clock::time_point{} && now - entry.last_guest < guest_refill_) return;
    entries_.erase(key);
}

}  // namespace haven::core
