#include "moderation/moderation_state.hpp"

#include <charconv>

namespace haven::moderation {
namespace {

constexpr std::string_view kHiddenPrefix = "hidden:";
constexpr std::string_view kMutePrefix = "mute:";
constexpr std::string_view kBanPrefix = "ban:";

std::uint64_t to_number(std::string_view text) {
    std::uint64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string hidden_field(std::uint64_t seq) {
    return std::string(kHiddenPrefix) + std::to_string(seq);
}
std::string mute_field(std::string_view subject) {
    return std::string(kMutePrefix) + std::string(subject);
}
std::string ban_field(std::string_view subject) {
    return std::string(kBanPrefix) + std::string(subject);
}
std::string ban_value(std::uint64_t until_ms, std::string_view address_key) {
    std::string value = std::to_string(until_ms);
    if (!address_key.empty()) value += ' ' + std::string(address_key);
    return value;
}

std::string held_field(std::string_view hold_id) {
    return "held:" + std::string(hold_id);
}

std::string versioned_value(std::uint64_t version, std::string_view payload) {
    std::string value = std::to_string(version);
    value += ' ';
    value += payload;
    return value;
}

std::optional<VersionedValue> parse_versioned(std::string_view stored) {
    const std::size_t space = stored.find(' ');
    if (space == 0 || space == std::string_view::npos || space > 20) return std::nullopt;
    VersionedValue value;
    const auto [end, error] = std::from_chars(stored.data(), stored.data() + space, value.version);
    if (error != std::errc{} || end != stored.data() + space) return std::nullopt;
    value.payload = stored.substr(space + 1);
    return value;
}

bool is_moderation_event(const v1::Event& event) {
    switch (event.kind_case()) {
        case v1::Event::kPostHidden:
        case v1::Event::kPostRestored:
        case v1::Event::kMemberMuted:
        case v1::Event::kMemberUnmuted:
        case v1::Event::kMemberRemoved:
        case v1::Event::kMemberUnbanned:
        case v1::Event::kRoomLock:
        case v1::Event::kSlowMode:
            return true;
        default:
            return false;
    }
}

// ---- BanList -----------------------------------------------------------------------------

void BanList::clear() {
    subjects_.clear();
    addresses_.clear();
    address_of_.clear();
}

void BanList::load(std::string_view subject, std::string_view value) {
    const std::size_t space = value.find(' ');
    const std::string address =
        space == std::string_view::npos ? std::string() : std::string(value.substr(space + 1));
    ban(std::string(subject), to_number(value.substr(0, space)), address);
}

void BanList::ban(const std::string& subject, std::uint64_t until_ms,
                  const std::string& address_key) {
    subjects_[subject] = until_ms;
    if (address_key.empty()) return;
    addresses_[address_key] = until_ms;
    address_of_[subject] = address_key;
}

void BanList::unban(const std::string& subject) {
    subjects_.erase(subject);
    const auto address = address_of_.find(subject);
    if (address == address_of_.end()) return;
    addresses_.erase(address->second);
    address_of_.erase(address);
}

std::optional<std::uint64_t> BanList::banned_until(const std::string& subject,
                                                   const std::string& address_key,
                                                   std::uint64_t now_ms) const {
    if (auto until = active_until(subjects_, subject, now_ms)) return until;
    if (address_key.empty()) return std::nullopt;
    return active_until(addresses_, address_key, now_ms);
}

// ---- ModerationState ---------------------------------------------------------------------

void ModerationState::load(const StateFields& fields) {
    hidden_.clear();
    muted_until_.clear();
    bans_.clear();
    locked_ = false;
    slow_mode_seconds_ = 0;
    for (const auto& [field, value] : fields) {
        const std::string_view name = field;
        if (starts_with(name, kHiddenPrefix)) {
            hidden_.insert(to_number(name.substr(kHiddenPrefix.size())));
        } else if (starts_with(name, kMutePrefix)) {
            muted_until_[std::string(name.substr(kMutePrefix.size()))] = to_number(value);
        } else if (starts_with(name, kBanPrefix)) {
            bans_.load(name.substr(kBanPrefix.size()), value);
        } else if (name == kLockedField) {
            locked_ = value == "1";
        } else if (name == kSlowModeField) {
            slow_mode_seconds_ = static_cast<std::uint32_t>(to_number(value));
        }
    }
}

void ModerationState::apply(const v1::Event& event) {
    switch (event.kind_case()) {
        case v1::Event::kPostHidden:
            hidden_.insert(event.post_hidden().seq());
            break;
        case v1::Event::kPostRestored:
            hidden_.erase(event.post_restored().seq());
            break;
        case v1::Event::kMemberMuted:
            muted_until_[event.member_muted().subject()] = event.member_muted().until_ms();
            break;
        case v1::Event::kMemberUnmuted:
            muted_until_.erase(event.member_unmuted().subject());
            break;
        case v1::Event::kMemberRemoved:
            if (event.member_removed().banned() && !event.member_removed().global()) {
                const v1::MemberRemoved& removed = event.member_removed();
                bans_.ban(removed.subject(), removed.until_ms(), removed.address_key());
            }
            break;
        case v1::Event::kMemberUnbanned:
            if (!event.member_unbanned().global()) bans_.unban(event.member_unbanned().subject());
            break;
        case v1::Event::kRoomLock:
            locked_ = event.room_lock().locked();
            break;
        case v1::Event::kSlowMode:
            slow_mode_seconds_ = event.slow_mode().seconds();
            break;
        default:
            break;
    }
}

std::optional<std::uint64_t> active_until(
    const std::unordered_map<std::string, std::uint64_t>& until_by_subject,
    const std::string& subject, std::uint64_t now_ms) {
    auto found = until_by_subject.find(subject);
    if (found == until_by_subject.end()) return std::nullopt;
    if (found->second != 0 && found->second <= now_ms) return std::nullopt;  // expired
    return found->second;
}

std::optional<std::uint64_t> ModerationState::muted_until(const std::string& subject,
                                                          std::uint64_t now_ms) const {
    return active_until(muted_until_, subject, now_ms);
}

std::uint64_t ModerationState::slow_mode_wait_ms(const std::string& subject,
                                                 std::uint64_t now_ms) const {
    if (slow_mode_seconds_ == 0) return 0;
    auto found = last_post_ms_.find(subject);
    if (found == last_post_ms_.end()) return 0;
    const std::uint64_t next = found->second + std::uint64_t{slow_mode_seconds_} * 1000;
    return next > now_ms ? next - now_ms : 0;
}

void ModerationState::note_post(const std::string& subject, std::uint64_t now_ms) {
    if (slow_mode_seconds_ != 0) last_post_ms_[subject] = now_ms;
}

void GlobalBans::load(const StateFields& fields) {
    bans_.clear();
    for (const auto& [field, value] : fields) {
        const std::string_view name = field;
        if (starts_with(name, kBanPrefix)) bans_.load(name.substr(kBanPrefix.size()), value);
    }
}

void GlobalBans::apply(const v1::Event& event) {
    if (event.has_member_removed() && event.member_removed().global() &&
        event.member_removed().banned()) {
        const v1::MemberRemoved& removed = event.member_removed();
        bans_.ban(removed.subject(), removed.until_ms(), removed.address_key());
    } else if (event.has_member_unbanned() && event.member_unbanned().global()) {
        bans_.unban(event.member_unbanned().subject());
    }
}

}  // namespace haven::moderation
