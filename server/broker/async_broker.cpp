#include "broker/async_broker.hpp"

#include <utility>

#include <boost/asio/async_result.hpp>

namespace haven::broker {
namespace {

namespace asio = boost::asio;

// An awaitable for a callback operation: `call(reply)` starts it, and `reply(value)` resumes
// the awaiting coroutine with the value, from inside the callback, as a callback would go on.
// The memory broker calls back before its call returns, and the coroutine may then finish
// while that call is still on the stack: so `call` owns copies of everything it hands the
// broker (it lives on this initiation's stack, not in a coroutine frame), and nothing here
// is touched once the broker has been called. (A protobuf member is passed by reference: the
// Broker promises not to touch its arguments once it has called back.)
template <class R, class Call>
core::Awaitable<R> awaited(Call call) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
        [](auto handler, Call begin) {
            // The broker's callbacks are copyable; the awaiting handler is not.
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            begin([shared](R value) { std::move (*shared)(std::move(value)); });
        },
        asio::use_awaitable, std::move(call));
}

template <class T>
Result<T> from_optional(std::optional<T> value) {
    if (!value) return Failure::unavailable();
    return std::move(*value);
}

Result<void> from_ok(bool ok) {
    if (!ok) return Failure::unavailable();
    return {};
}

Result<Published> from_publish(const PublishOutcome& outcome) {
    using Status = PublishOutcome::Status;
    switch (outcome.status) {
        case Status::published:
            return Published{outcome.seq, false};
        case Status::duplicate:
            return Published{outcome.seq, true};
        case Status::rate_limited:
            return Failure{Failure::Reason::rate_limited, outcome.retry_after_ms};
        case Status::conflict:
            return Failure{Failure::Reason::conflict, 0};
        case Status::unavailable:
            break;
    }
    return Failure::unavailable();
}

Result<HistorySlice> from_slice(HistorySlice slice) {
    if (!slice.ok) return Failure::unavailable();
    return slice;
}

Result<JoinOutcome> from_join(JoinOutcome outcome) {
    using Status = JoinOutcome::Status;
    switch (outcome.status) {
        case Status::joined:
            return outcome;
        case Status::full:
            return Failure{Failure::Reason::room_full, 0};
        case Status::already_member:
            return Failure{Failure::Reason::already_member, 0};
        case Status::handle_taken:
            return Failure{Failure::Reason::handle_taken, 0};
        case Status::unavailable:
            break;
    }
    return Failure::unavailable();
}

// A callback for the broker that converts its value with `convert` before replying.
template <class Reply, class Convert>
auto converting(Reply reply, Convert convert) {
    return [reply = std::move(reply), convert](auto value) mutable {
        reply(convert(std::move(value)));
    };
}

template <class T>
auto optional_to_result() {
    return [](std::optional<T> value) { return from_optional(std::move(value)); };
}

}  // namespace

core::Awaitable<Result<Published>> AsyncBroker::publish(std::unique_ptr<v1::Event>&& event,
                                                        std::string&& dedupe_key,
                                                        AuthorLimit&& limit) {
    return awaited<Result<Published>>([broker = broker_, event = std::move(event),
                                       key = std::move(dedupe_key),
                                       limit = std::move(limit)](auto reply) mutable {
        broker->publish(std::move(event), std::move(key), std::move(limit),
                        converting(std::move(reply), from_publish));
    });
}

core::Awaitable<Result<Published>> AsyncBroker::publish_with_state(
    std::unique_ptr<v1::Event>&& event, moderation::StateChange&& change) {
    return awaited<Result<Published>>([broker = broker_, event = std::move(event),
                                       change = std::move(change)](auto reply) mutable {
        broker->publish_with_state(std::move(event), std::move(change),
                                   converting(std::move(reply), from_publish));
    });
}

core::Awaitable<Result<void>> AsyncBroker::update_state(const std::string& room_id,
                                                        moderation::StateChange&& change) {
    return awaited<Result<void>>(
        [broker = broker_, room_id, change = std::move(change)](auto reply) mutable {
            broker->update_state(room_id, std::move(change), converting(std::move(reply), from_ok));
        });
}

core::Awaitable<Result<moderation::StateFields>> AsyncBroker::read_state(
    const std::string& room_id) {
    return awaited<Result<moderation::StateFields>>([broker = broker_, room_id](auto reply) {
        broker->read_state(
            room_id, converting(std::move(reply), optional_to_result<moderation::StateFields>()));
    });
}

core::Awaitable<Result<std::optional<std::string>>> AsyncBroker::take_state_field(
    const std::string& room_id, const std::string& field) {
    return awaited<Result<std::optional<std::string>>>(
        [broker = broker_, room_id, field](auto reply) {
            broker->take_state_field(
                room_id, field,
                converting(std::move(reply), optional_to_result<std::optional<std::string>>()));
        });
}

core::Awaitable<Result<std::uint64_t>> AsyncBroker::find_duplicate(const std::string& room_id,
                                                                   const std::string& dedupe_key) {
    return awaited<Result<std::uint64_t>>([broker = broker_, room_id, dedupe_key](auto reply) {
        broker->find_duplicate(room_id, dedupe_key,
                               converting(std::move(reply), optional_to_result<std::uint64_t>()));
    });
}

core::Awaitable<Result<FlagCount>> AsyncBroker::add_flag(const std::string& room_id,
                                                         std::uint64_t seq,
                                                         const std::string& subject, bool trusted) {
    return awaited<Result<FlagCount>>(
        [broker = broker_, room_id, seq, subject, trusted](auto reply) {
            broker->add_flag(room_id, seq, subject, trusted,
                             converting(std::move(reply), optional_to_result<FlagCount>()));
        });
}

core::Awaitable<Result<v1::PresenceRecord>> AsyncBroker::find_member(const std::string& room_id,
                                                                     const std::string& member_id) {
    return awaited<Result<v1::PresenceRecord>>([broker = broker_, room_id, member_id](auto reply) {
        broker->find_member(room_id, member_id,
                            converting(std::move(reply), optional_to_result<v1::PresenceRecord>()));
    });
}

core::Awaitable<Result<HistorySlice>> AsyncBroker::read_history(const HistoryQuery& query) {
    return awaited<Result<HistorySlice>>([broker = broker_, query](auto reply) {
        broker->read_history(query, converting(std::move(reply), from_slice));
    });
}

core::Awaitable<Result<std::optional<v1::Event>>> AsyncBroker::read_event(
    const std::string& room_id, std::uint64_t seq) {
    HistoryQuery query;
    query.room_id = room_id;
    query.after_seq = seq - 1;
    query.limit = 1;
    query.newest = false;
    return awaited<Result<std::optional<v1::Event>>>([broker = broker_, query, seq](auto reply) {
        broker->read_history(query, converting(std::move(reply), [seq](HistorySlice slice) {
                                 Result<std::optional<v1::Event>> out = Failure::unavailable();
                                 if (!slice.ok) return out;
                                 if (slice.events.empty() || slice.events[0]->seq() != seq) {
                                     out = std::optional<v1::Event>();
                                 } else {
                                     out = std::optional<v1::Event>(*slice.events[0]);
                                 }
                                 return out;
                             }));
    });
}

core::Awaitable<Result<JoinOutcome>> AsyncBroker::add_member(const std::string& room_id,
                                                             const v1::PresenceRecord& record,
                                                             std::uint32_t capacity) {
    // `record` by reference: it outlives the call, after which the broker touches nothing it
    // was given (broker/broker.hpp); a member's copy costs a handful of allocations per join.
    return awaited<Result<JoinOutcome>>([broker = broker_, room_id, &record, capacity](auto reply) {
        broker->add_member(room_id, record, capacity, converting(std::move(reply), from_join));
    });
}

core::Awaitable<Result<std::uint32_t>> AsyncBroker::remove_member(const std::string& room_id,
                                                                  const v1::Member& member) {
    return awaited<Result<std::uint32_t>>([broker = broker_, room_id, &member](auto reply) {
        broker->remove_member(room_id, member,
                              converting(std::move(reply), optional_to_result<std::uint32_t>()));
    });
}

core::Awaitable<Result<PresenceSnapshot>> AsyncBroker::read_presence(const std::string& room_id) {
    return awaited<Result<PresenceSnapshot>>([broker = broker_, room_id](auto reply) {
        broker->read_presence(room_id,
                              converting(std::move(reply), optional_to_result<PresenceSnapshot>()));
    });
}

core::Awaitable<Result<void>> AsyncBroker::publish_global(EventPtr&& event,
                                                          moderation::StateChange&& change) {
    return awaited<Result<void>>([broker = broker_, event = std::move(event),
                                  change = std::move(change)](auto reply) mutable {
        broker->publish_global(std::move(event), std::move(change),
                               converting(std::move(reply), from_ok));
    });
}

core::Awaitable<Result<moderation::StateFields>> AsyncBroker::read_global_state() {
    return awaited<Result<moderation::StateFields>>([broker = broker_](auto reply) {
        broker->read_global_state(
            converting(std::move(reply), optional_to_result<moderation::StateFields>()));
    });
}

core::Awaitable<Result<ClaimOutcome>> AsyncBroker::claim_item(const v1::ModerationItem& claim) {
    return awaited<Result<ClaimOutcome>>([broker = broker_, claim](auto reply) {
        broker->claim_item(claim, converting(std::move(reply), optional_to_result<ClaimOutcome>()));
    });
}

core::Awaitable<Result<bool>> AsyncBroker::escalate_item(const v1::ModerationItem& notice) {
    return awaited<Result<bool>>([broker = broker_, notice](auto reply) {
        broker->escalate_item(notice, converting(std::move(reply), optional_to_result<bool>()));
    });
}

core::Awaitable<Result<bool>> AsyncBroker::mark_author_left(const v1::ModerationItem& notice) {
    return awaited<Result<bool>>([broker = broker_, notice](auto reply) {
        broker->mark_author_left(notice, converting(std::move(reply), optional_to_result<bool>()));
    });
}

core::Awaitable<Result<std::optional<std::string>>> AsyncBroker::find_check_in(
    std::string thread_id) {
    return awaited<Result<std::optional<std::string>>>(
        [broker = broker_, thread_id = std::move(thread_id)](auto reply) {
            broker->find_check_in(
                thread_id,
                converting(std::move(reply), optional_to_result<std::optional<std::string>>()));
        });
}

core::Awaitable<Result<std::vector<moderation::Departure>>> AsyncBroker::take_departures(
    std::uint64_t now_ms, std::uint32_t limit) {
    return awaited<Result<std::vector<moderation::Departure>>>([broker = broker_, now_ms,
                                                                limit](auto reply) {
        broker->take_departures(
            now_ms, limit,
            converting(std::move(reply), optional_to_result<std::vector<moderation::Departure>>()));
    });
}

core::Awaitable<Result<bool>> AsyncBroker::hold_webhook(std::string item_id, std::uint64_t now_ms,
                                                        std::uint64_t until_ms) {
    return awaited<Result<bool>>(
        [broker = broker_, item_id = std::move(item_id), now_ms, until_ms](auto reply) {
            broker->hold_webhook(item_id, now_ms, until_ms,
                                 converting(std::move(reply), optional_to_result<bool>()));
        });
}

core::Awaitable<Result<std::vector<v1::ModerationItem>>> AsyncBroker::read_moderation_queue() {
    return awaited<Result<std::vector<v1::ModerationItem>>>([broker = broker_](auto reply) {
        broker->read_moderation_queue(
            converting(std::move(reply), optional_to_result<std::vector<v1::ModerationItem>>()));
    });
}

core::Awaitable<Result<std::optional<KnownRole>>> AsyncBroker::find_role(
    const std::string& subject) {
    return awaited<Result<std::optional<KnownRole>>>([broker = broker_, subject](auto reply) {
        broker->find_role(subject, converting(std::move(reply), [](RoleLookup lookup) {
                              Result<std::optional<KnownRole>> out = Failure::unavailable();
                              if (lookup.ok) out = std::move(lookup.known);
                              return out;
                          }));
    });
}

core::Awaitable<Result<v1::AuditPage>> AsyncBroker::read_audit(const std::string& room_id,
                                                               const std::string& before_id,
                                                               std::uint32_t limit) {
    return awaited<Result<v1::AuditPage>>(
        [broker = broker_, room_id, before_id, limit](auto reply) {
            broker->read_audit(room_id, before_id, limit,
                               converting(std::move(reply), optional_to_result<v1::AuditPage>()));
        });
}

}  // namespace haven::broker
