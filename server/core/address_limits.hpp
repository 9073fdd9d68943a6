// Per-address abuse limits, shared by every shard: connections open at once, connections not
// yet upgraded to a WebSocket, bytes of unfinished frames buffered, and new guests an hour.
// An address is known here only by its keyed hash (net/client_address.hpp); entries go when
// their address has no connection left and no guest budget to remember, and the table never
// holds more than limits.max_tracked_addresses of them.
//
// Thread-safe: one mutex, taken when a connection opens, upgrades or closes, when a large
// frame's buffering changes, and when a guest is minted; never per message.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"
#include "core/refusal.hpp"
#include "core/token_bucket.hpp"

namespace haven::core {

class AddressLimits {
    struct Entry {
        std::uint32_t connections = 0;
        std::uint32_t upgrading = 0;
        std::uint64_t buffered = 0;
        TokenBucket new_guests;
        TokenBucket::Clock::time_point last_guest{};
    };

public:
    explicit AddressLimits(const config::LimitsConfig& limits);
    AddressLimits(const AddressLimits&) = delete;
    AddressLimits& operator=(const AddressLimits&) = delete;

    // One connection's place in its address's counts, held while the connection lives.
    class Lease {
    public:
        Lease() = default;  // untracked: counts nothing, refuses nothing
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&& other) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();

        bool tracked() const { return table_ != nullptr; }
        // The address key ("" when untracked).
        const std::string& key() const { return key_; }
        // The connection is a WebSocket now: no longer an upgrade in flight.
        void upgraded();
        // This connection now holds `bytes` of unfinished frames; false when that takes its
        // address past limits.address_buffer_bytes (the count is then unchanged).
        bool hold_buffered(std::size_t bytes);
        std::size_t buffered() const { return buffered_; }

    private:
        friend class AddressLimits;
        void release();
        AddressLimits* table_ = nullptr;
        Entry* entry_ = nullptr;
        std::string key_;
        bool upgrading_ = false;
        std::size_t buffered_ = 0;
    };

    // Counts a new connection from the address `key`, still to be upgraded. Refusal::none
    // and a tracked lease, or the reason and an untracked one.
    std::pair<Refusal, Lease> open(std::string key);
    // Moves an upgraded connection to the client a trusted proxy named; the lease is unchanged
    // when the new address is refused.
    Refusal reattribute(Lease& lease, std::string key);
    // A Hello that would mint a new guest from this address: Refusal::none, or
    // new_guests_per_address with how long until one more is allowed.
    std::pair<Refusal, std::chrono::milliseconds> take_new_guest(
        const std::string& key, TokenBucket::Clock::time_point now);

    std::size_t tracked_addresses() const;

private:
    // With mutex_ held: the entry for `key`, created when there is room; null otherwise.
    Entry* find_or_add(const std::string& key, TokenBucket::Clock::time_point now);
    // With mutex_ held: removes entries that remember nothing (no connection, guest budget
    // back to full).
    void sweep(TokenBucket::Clock::time_point now);
    void forget_if_idle(const std::string& key, Entry& entry, TokenBucket::Clock::time_point now);

    const config::LimitsConfig& limits_;
    const std::chrono::seconds guest_refill_;  // a full guest budget refills in an hour
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;  // nodes stay put: leases point at them
};

}  // namespace haven::core
