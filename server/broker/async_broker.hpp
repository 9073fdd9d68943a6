// The Broker's operations as coroutines, for both brokers at once: each one starts the
// callback operation and resumes the caller, on the caller's shard, with a Result. The owner
// side's request flows use these; the delivery path (sink -> fan-out) stays plain calls.
//
//   auto state = co_await broker.read_state(room_id);
//   if (!state) co_return reply_unavailable(...);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "broker/broker_result.hpp"
#include "core/spawn.hpp"

namespace haven::broker {

struct Published {
    std::uint64_t seq = 0;   // the event's sequence number (the original one for a duplicate)
    bool duplicate = false;  // published before under the same dedupe key
};

// Arguments are taken by reference and copied (or moved) into the operation before it starts:
// GCC 12 may move a temporary that spans a co_await bytewise, which breaks strings kept in
// place, so callers pass named objects and no by-value argument crosses a suspension.
class AsyncBroker {
public:
    explicit AsyncBroker(Broker& broker) : broker_(&broker) {}

    Broker& plain() { return *broker_; }

    core::Awaitable<Result<Published>> publish(std::unique_ptr<v1::Event>&& event,
                                               std::string&& dedupe_key, AuthorLimit&& limit);
    core::Awaitable<Result<Published>> publish_with_state(std::unique_ptr<v1::Event>&& event,
                                                          moderation::StateChange&& change);
    core::Awaitable<Result<void>> update_state(const std::string& room_id,
                                               moderation::StateChange&& change);
    core::Awaitable<Result<moderation::StateFields>> read_state(const std::string& room_id);
    // The field's value when this call took it (see Broker::take_state_field).
    core::Awaitable<Result<std::optional<std::string>>> take_state_field(const std::string& room_id,
                                                                         const std::string& field);
    // The sequence number the key was published under; 0 when it was not (or was forgotten).
    core::Awaitable<Result<std::uint64_t>> find_duplicate(const std::string& room_id,
                                                          const std::string& dedupe_key);
    // The post's flags after this one (flaggers 0 when this person had flagged it).
    core::Awaitable<Result<FlagCount>> add_flag(const std::string& room_id, std::uint64_t seq,
                                                const std::string& subject, bool trusted);
    // The present member's record; an empty one (no subject) when nobody has that id.
    core::Awaitable<Result<v1::PresenceRecord>> find_member(const std::string& room_id,
                                                            const std::string& member_id);
    core::Awaitable<Result<HistorySlice>> read_history(const HistoryQuery& query);
    // One event by its sequence number; nothing when it is not retained.
    core::Awaitable<Result<std::optional<v1::Event>>> read_event(const std::string& room_id,
                                                                 std::uint64_t seq);
    core::Awaitable<Result<JoinOutcome>> add_member(const std::string& room_id,
                                                    const v1::PresenceRecord& record,
                                                    std::uint32_t capacity);
    // Members left in the room.
    core::Awaitable<Result<std::uint32_t>> remove_member(const std::string& room_id,
                                                         const v1::Member& member);
    core::Awaitable<Result<PresenceSnapshot>> read_presence(const std::string& room_id);

    // Server-wide, on shard 0.
    core::Awaitable<Result<void>> publish_global(EventPtr&& event,
                                                 moderation::StateChange&& change);
    core::Awaitable<Result<moderation::StateFields>> read_global_state();
    core::Awaitable<Result<std::vector<v1::ModerationItem>>> read_moderation_queue();
    core::Awaitable<Result<ClaimOutcome>> claim_item(const v1::ModerationItem& claim);
    // Whether this call took the step (see Broker::escalate_item).
    core::Awaitable<Result<bool>> escalate_item(const v1::ModerationItem& notice);
    // Whether this call marked the author gone (see Broker::mark_author_left).
    core::Awaitable<Result<bool>> mark_author_left(const v1::ModerationItem& notice);
    core::Awaitable<Result<std::optional<std::string>>> find_check_in(std::string thread_id);
    core::Awaitable<Result<std::vector<moderation::Departure>>> take_departures(
        std::uint64_t now_ms, std::uint32_t limit);
    // Whether this call holds the item's webhook (see Broker::hold_webhook).
    core::Awaitable<Result<bool>> hold_webhook(std::string item_id, std::uint64_t now_ms,
                                               std::uint64_t until_ms);
    // Nothing: never seen (or forgotten).
    core::Awaitable<Result<std::optional<KnownRole>>> find_role(const std::string& subject);
    core::Awaitable<Result<v1::AuditPage>> read_audit(const std::string& room_id,
                                                      const std::string& before_id,
                                                      std::uint32_t limit);

private:
    Broker* broker_;
};

}  // namespace haven::broker
