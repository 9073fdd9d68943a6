// A room's moderation state as the owner shard enforces it: hidden posts, mutes, bans, lock,
// slow mode. The broker stores it as string fields, changed atomically with the event that
// announces each change; every instance with members in the room keeps this cache current by
// applying those events in order, and loads a snapshot when it starts serving the room.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "haven.pb.h"

namespace haven::moderation {

// Broker-stored fields of one room (or of the whole server, for global bans).
using StateFields = std::map<std::string, std::string>;

// One field change stored together with the event that announces it.
struct StateChange {
    // create: set only when the field is absent; otherwise nothing changes and nothing is
    // announced (publish_global then reports false). Server-wide state only.
    // swap: set a versioned field (its value starts with its version, a decimal number, and a
    // space; see versioned_value) only when its version now is `expected` (0: absent);
    // otherwise nothing is stored or published and the outcome is `conflict`. Room state only.
    enum class Op { none, set, erase, create, swap };
    Op op = Op::none;
    std::string field;
    std::string value;
    std::uint64_t expected = 0;

    static StateChange set(std::string field, std::string value) {
        return {Op::set, std::move(field), std::move(value)};
    }
    static StateChange erase(std::string field) { return {Op::erase, std::move(field), {}}; }
    static StateChange create(std::string field, std::string value) {
        return {Op::create, std::move(field), std::move(value)};
    }
    static StateChange swap(std::string field, std::string value, std::uint64_t expected) {
        return {Op::swap, std::move(field), std::move(value), expected};
    }
};

// A versioned field's stored value ("<version> <payload>"), and its parts back.
std::string versioned_value(std::uint64_t version, std::string_view payload);
struct VersionedValue {
    std::uint64_t version = 0;
    std::string_view payload;
};
std::optional<VersionedValue> parse_versioned(std::string_view stored);

// Field names, in one place.
std::string hidden_field(std::uint64_t seq);
std::string mute_field(std::string_view subject);
std::string ban_field(std::string_view subject);
// A ban field's value: when it ends (0 = indefinitely) and, for a guest, the keyed address
// banned with them (net/client_address.hpp), so a new guest from there is kept out too.
std::string ban_value(std::uint64_t until_ms, std::string_view address_key);
std::string held_field(std::string_view hold_id);
inline constexpr std::string_view kLockedField = "locked";
inline constexpr std::string_view kSlowModeField = "slow";

// Events that change a room's moderation state (and are enforced when they arrive).
bool is_moderation_event(const v1::Event& event);

// When a restriction in `until_by_subject` ends for `subject` (0 = indefinitely), or nothing
// when there is none or it has expired.
std::optional<std::uint64_t> active_until(
    const std::unordered_map<std::string, std::uint64_t>& until_by_subject,
    const std::string& subject, std::uint64_t now_ms);

inline const std::string kNoAddressKey;

// Bans by subject and by address, as one room's (or the server's) state holds them.
class BanList {
public:
    void clear();
    // A stored field's name after "ban:" and its value (see ban_value).
    void load(std::string_view subject, std::string_view value);
    void ban(const std::string& subject, std::uint64_t until_ms, const std::string& address_key);
    void unban(const std::string& subject);
    // When the ban of this person, or of the address they come from, ends (0 = indefinitely);
    // nothing when neither is banned now. `address_key` may be empty (not known).
    std::optional<std::uint64_t> banned_until(const std::string& subject,
                                              const std::string& address_key,
                                              std::uint64_t now_ms) const;

private:
    std::unordered_map<std::string, std::uint64_t> subjects_;   // 0 = indefinitely
    std::unordered_map<std::string, std::uint64_t> addresses_;  // by address key
    std::unordered_map<std::string, std::string> address_of_;   // banned subject -> address key
};

class ModerationState {
public:
    // Replaces everything from a stored snapshot.
    void load(const StateFields& fields);
    // Applies a sequenced moderation event (other events are ignored).
    void apply(const v1::Event& event);

    bool hidden(std::uint64_t seq) const { return hidden_.count(seq) != 0; }
    bool locked() const { return locked_; }
    std::uint32_t slow_mode_seconds() const { return slow_mode_seconds_; }

    // When the restriction ends (0 = indefinitely), or nothing when there is none now.
    std::optional<std::uint64_t> muted_until(const std::string& subject,
                                             std::uint64_t now_ms) const;
    std::optional<std::uint64_t> banned_until(
        const std::string& subject, std::uint64_t now_ms,
        const std::string& address_key = kNoAddressKey) const {
        return bans_.banned_until(subject, address_key, now_ms);
    }

    // Slow mode: how long until `subject` may post again (0 = now), and recording a post.
    std::uint64_t slow_mode_wait_ms(const std::string& subject, std::uint64_t now_ms) const;
    void note_post(const std::string& subject, std::uint64_t now_ms);

private:
    std::unordered_set<std::uint64_t> hidden_;
    std::unordered_map<std::string, std::uint64_t> muted_until_;  // 0 = indefinitely
    BanList bans_;
    bool locked_ = false;
    std::uint32_t slow_mode_seconds_ = 0;
    std::unordered_map<std::string, std::uint64_t> last_post_ms_;  // for slow mode
};

// Global bans (every room), kept by every shard from the broker's global events.
class GlobalBans {
public:
    void load(const StateFields& fields);
    void apply(const v1::Event& event);
    std::optional<std::uint64_t> banned_until(
        const std::string& subject, std::uint64_t now_ms,
        const std::string& address_key = kNoAddressKey) const {
        return bans_.banned_until(subject, address_key, now_ms);
    }

private:
    BanList bans_;
};

}  // namespace haven::moderation
