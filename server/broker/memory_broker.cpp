#include "broker/memory_broker.hpp"

#include <algorithm>
#include <limits>

namespace haven::broker {
namespace {

constexpr std::uint64_t kWebhookSent = std::numeric_limits<std::uint64_t>::max();

}  // namespace

MemoryBroker::MemoryBroker(const config::HistoryConfig& retention, BrokerSink& sink,
                           WallClock clock, std::unique_ptr<moderation::AuditFile> audit,
                           UserRateLimiter* limiter, RoleMemory role_memory)
    : retention_(retention),
      sink_(sink),
      clock_(std::move(clock)),
      audit_(std::move(audit)),
      limiter_(limiter),
      known_roles_(role_memory) {
    if (!audit_) audit_ = std::make_unique<moderation::AuditFile>("");
}

void MemoryBroker::publish(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                           AuthorLimit limit, PublishCallback done) {
    RoomLog& log = rooms_[event->room_id()];
    store(log, std::move(event), std::move(dedupe_key), limit, done);
}

void MemoryBroker::publish_with_state(std::unique_ptr<v1::Event> event,
                                      moderation::StateChange change, PublishCallback done) {
    RoomLog& log = rooms_[event->room_id()];
    if (change.op == moderation::StateChange::Op::swap) {
        const auto found = log.state.find(change.field);
        std::uint64_t version = 0;
        if (found != log.state.end()) {
            const auto stored = moderation::parse_versioned(found->second);
            version = stored ? stored->version : 0;
        }
        if (version != change.expected) return done({PublishOutcome::Status::conflict, 0});
    }
    apply(log.state, change);
    store(log, std::move(event), {}, {}, done);
}

void MemoryBroker::update_state(const std::string& room_id, moderation::StateChange change,
                                DoneCallback done) {
    apply(rooms_[room_id].state, change);
    done(true);
}

void MemoryBroker::read_state(const std::string& room_id, StateCallback done) {
    done(rooms_[room_id].state);
}

void MemoryBroker::take_state_field(const std::string& room_id, const std::string& field,
                                    TakeCallback done) {
    moderation::StateFields& state = rooms_[room_id].state;
    const auto found = state.find(field);
    if (found == state.end()) return done(std::optional<std::string>());
    std::optional<std::string> value = std::move(found->second);
    state.erase(found);
    done(std::move(value));
}

void MemoryBroker::find_duplicate(const std::string& room_id, const std::string& dedupe_key,
                                  std::function<void(std::optional<std::uint64_t>)> done) {
    const RoomLog& log = rooms_[room_id];
    auto found = log.seq_by_dedupe_key.find(dedupe_key);
    done(found == log.seq_by_dedupe_key.end() ? 0 : found->second);
}

void MemoryBroker::apply(moderation::StateFields& state, const moderation::StateChange& change) {
    using Op = moderation::StateChange::Op;
    if (change.op == Op::set || change.op == Op::create || change.op == Op::swap) {
        state[change.field] = change.value;
    }
    if (change.op == Op::erase) state.erase(change.field);
}

void MemoryBroker::add_flag(const std::string& room_id, std::uint64_t seq,
                            const std::string& subject, bool trusted, FlagCallback done) {
    RoomLog& log = rooms_[room_id];
    auto& flaggers = log.flaggers[seq];
    std::uint32_t& trusted_flags = log.trusted_flags[seq];
    if (!flaggers.insert(subject).second) return done(FlagCount{0, trusted_flags});
    if (trusted) ++trusted_flags;
    done(FlagCount{static_cast<std::uint32_t>(flaggers.size()), trusted_flags});
}

void MemoryBroker::find_member(const std::string& room_id, const std::string& member_id,
                               MemberCallback done) {
    const RoomLog& log = rooms_[room_id];
    auto found = log.members.find(member_id);
    if (found == log.members.end()) return done(v1::PresenceRecord{});
    done(found->second);
}

void MemoryBroker::publish_global(EventPtr event, moderation::StateChange change,
                                  DoneCallback done) {
    if (change.op == moderation::StateChange::Op::create && global_state_.count(change.field)) {
        return done(false);
    }
    apply(global_state_, change);
    done(true);
    sink_.on_global_event(event);
}

void MemoryBroker::read_global_state(StateCallback done) {
    done(global_state_);
}

void MemoryBroker::publish_moderation_item(const v1::ModerationItem& item) {
    if (item.kind() == v1::ModerationItem::RESOLVED) {
        open_items_.erase(item.id());
        claims_.erase(item.id());
        escalations_.erase(item.id());
        authors_left_.erase(item.id());
        webhooks_.erase(item.id());
        return sink_.on_moderation_item(std::make_shared<const v1::ModerationItem>(item));
    }
    // An item published again (one more flag) keeps its owner and its step.
    auto merged = std::make_shared<v1::ModerationItem>(item);
    if (const auto claim = claims_.find(item.id()); claim != claims_.end()) {
        merged->MergeFrom(claim_fields(claim->second));
    }
    if (const auto step = escalations_.find(item.id()); step != escalations_.end()) {
        merged->set_escalation(step->second);
    }
    if (const auto left = authors_left_.find(item.id()); left != authors_left_.end()) {
        merged->set_left_at_ms(left->second);
    }
    open_items_[item.id()] = *merged;
    sink_.on_moderation_item(merged);
}

void MemoryBroker::claim_item(const v1::ModerationItem& claim, ClaimCallback done) {
    const auto open = open_items_.find(claim.id());
    if (open == open_items_.end()) return done(ClaimOutcome{});
    if (const auto holder = claims_.find(claim.id()); holder != claims_.end()) {
        return done(ClaimOutcome{ClaimOutcome::Kind::taken, open->second, holder->second});
    }
    claims_[claim.id()] = claim;
    open->second.MergeFrom(claim_fields(claim));
    const ClaimOutcome outcome{ClaimOutcome::Kind::won, open->second, claim};
    sink_.on_moderation_item(std::make_shared<const v1::ModerationItem>(claim));
    done(outcome);
}

void MemoryBroker::escalate_item(const v1::ModerationItem& notice, EscalateCallback done) {
    const auto open = open_items_.find(notice.id());
    if (open == open_items_.end() || claims_.count(notice.id()) != 0 ||
        escalations_[notice.id()] >= notice.escalation()) {
        return done(false);
    }
    escalations_[notice.id()] = notice.escalation();
    open->second.set_escalation(notice.escalation());
    sink_.on_moderation_item(std::make_shared<const v1::ModerationItem>(notice));
    done(true);
}

void MemoryBroker::mark_author_left(const v1::ModerationItem& notice, EscalateCallback done) {
    const auto open = open_items_.find(notice.id());
    if (open == open_items_.end() ||
        !authors_left_.emplace(notice.id(), notice.left_at_ms()).second) {
        return done(false);
    }
    open->second.set_left_at_ms(notice.left_at_ms());
    sink_.on_moderation_item(std::make_shared<const v1::ModerationItem>(notice));
    done(true);
}

void MemoryBroker::hold_webhook(const std::string& item_id, std::uint64_t now_ms,
                                std::uint64_t until_ms, EscalateCallback done) {
    if (open_items_.count(item_id) == 0 || claims_.count(item_id) != 0) return done(false);
    auto [held, fresh] = webhooks_.try_emplace(item_id, until_ms);
    if (fresh) return done(true);
    if (held->second == kWebhookSent || held->second > now_ms) return done(false);
    held->second = until_ms;
    done(true);
}

void MemoryBroker::mark_webhook_sent(const std::string& item_id) {
    if (open_items_.count(item_id) != 0) webhooks_[item_id] = kWebhookSent;
}

void MemoryBroker::record_departure(const moderation::Departure& gone, std::uint64_t takeover_ms) {
    departures_[{gone.room_id, gone.subject}] = Wait{gone, takeover_ms};
}

void MemoryBroker::forget_departure(const moderation::Departure& gone) {
    const auto found = departures_.find({gone.room_id, gone.subject});
    if (found != departures_.end() && found->second.gone.left_at_ms == gone.left_at_ms) {
        departures_.erase(found);
    }
}

void MemoryBroker::take_departures(std::uint64_t now_ms, std::uint32_t limit,
                                   DeparturesCallback done) {
    std::vector<moderation::Departure> due;
    for (auto it = departures_.begin(); it != departures_.end() && due.size() < limit;) {
        if (it->second.takeover_ms > now_ms) {
            ++it;
            continue;
        }
        due.push_back(std::move(it->second.gone));
        it = departures_.erase(it);
    }
    done(std::move(due));
}

void MemoryBroker::remember_check_in(const std::string&, const std::string&, std::uint64_t) {}

void MemoryBroker::find_check_in(const std::string&, TakeCallback done) {
    done(std::optional<std::string>());
}

void MemoryBroker::read_moderation_queue(QueueCallback done) {
    std::vector<v1::ModerationItem> items;
    items.reserve(open_items_.size());
    for (const auto& [id, item] : open_items_) items.push_back(item);
    done(std::move(items));
}

void MemoryBroker::append_audit(v1::AuditEntry entry) {
    audit_->append(std::move(entry));
}

void MemoryBroker::record_role(const std::string& subject, const KnownRole& seen) {
    known_roles_.record(subject, seen, clock_());
}

void MemoryBroker::find_role(const std::string& subject, RoleCallback done) {
    done(RoleLookup{true, known_roles_.find(subject, clock_())});
}

void MemoryBroker::read_audit(std::string room_id, std::string before_id, std::uint32_t limit,
                              AuditCallback done) {
    done(audit_->page(room_id, before_id, limit));
}

void MemoryBroker::store(RoomLog& log, std::unique_ptr<v1::Event> event, std::string dedupe_key,
                         const AuthorLimit& limit, PublishCallback& done) {
    if (!dedupe_key.empty()) {
        if (auto found = log.seq_by_dedupe_key.find(dedupe_key);
            found != log.seq_by_dedupe_key.end()) {
            done({PublishOutcome::Status::duplicate, found->second});
            return;
        }
    }
    const std::uint64_t now = clock_();
    if (limiter_ != nullptr && !limit.subject.empty()) {
        if (const std::uint32_t wait =
                limiter_->try_take(limit.subject, limit.per_second, limit.burst, now)) {
            done({PublishOutcome::Status::rate_limited, 0, wait});
            return;
        }
    }
    event->set_seq(++log.last_seq);
    event->set_time_ms(now);
    EventPtr stored(std::move(event));
    // The room's history is removed: this event starts what is kept.
    if (stored->has_history_cleared()) log.events.clear();
    log.events.push_back(stored);
    trim(log, now);
    if (!dedupe_key.empty()) remember(log, std::move(dedupe_key), stored->seq());

    done({PublishOutcome::Status::published, stored->seq()});
    sink_.on_room_event(stored);
}

void MemoryBroker::publish_ephemeral(EventPtr event) {
    sink_.on_room_event(event);
}

void MemoryBroker::read_history(HistoryQuery query, HistoryCallback done) {
    RoomLog& log = rooms_[query.room_id];
    trim(log, clock_());
    done(slice(log, query));
}

namespace {

// Another person (not the same subject on a second device) in the room has the handle key.
bool handle_held_by_another(const std::map<std::string, v1::PresenceRecord>& members,
                            const v1::PresenceRecord& joining) {
    if (joining.handle_key().empty()) return false;
    return std::any_of(members.begin(), members.end(), [&](const auto& entry) {
        const v1::PresenceRecord& held = entry.second;
        return held.handle_key() == joining.handle_key() && held.subject() != joining.subject();
    });
}

}  // namespace

void MemoryBroker::add_member(const std::string& room_id, const v1::PresenceRecord& record,
                              std::uint32_t capacity, JoinCallback done) {
    RoomLog& log = rooms_[room_id];
    JoinOutcome outcome;
    const std::string& member_id = record.member().member_id();
    if (log.members.count(member_id) != 0) {
        outcome.status = JoinOutcome::Status::already_member;
    } else if (log.members.size() >= capacity) {
        outcome.status = JoinOutcome::Status::full;
    } else if (handle_held_by_another(log.members, record)) {
        outcome.status = JoinOutcome::Status::handle_taken;
    } else {
        log.members.emplace(member_id, record);
        outcome.status = JoinOutcome::Status::joined;
        outcome.members = members_of(log);
        outcome.presence_version = announce(log, room_id, record.member(), true);
    }
    done(std::move(outcome));
}

void MemoryBroker::remove_member(const std::string& room_id, const v1::Member& member,
                                 LeaveCallback done) {
    RoomLog& log = rooms_[room_id];
    if (log.members.erase(member.member_id()) != 0) announce(log, room_id, member, false);
    done(static_cast<std::uint32_t>(log.members.size()));
}

void MemoryBroker::read_presence(const std::string& room_id, PresenceCallback done) {
    RoomLog& log = rooms_[room_id];
    PresenceSnapshot snapshot{members_of(log), log.presence_version, {}};
    snapshot.subjects.reserve(log.members.size());
    for (const auto& [id, present] : log.members) snapshot.subjects.push_back(present.subject());
    done(std::move(snapshot));
}

std::optional<std::uint64_t> MemoryBroker::delivered_seq(const std::string& room_id) const {
    // Every event reaches the sink the moment it is stored.
    auto found = rooms_.find(room_id);
    return found == rooms_.end() ? 0 : found->second.last_seq;
}

std::vector<v1::Member> MemoryBroker::members_of(const RoomLog& log) {
    std::vector<v1::Member> members;
    members.reserve(log.members.size());
    for (const auto& [id, present] : log.members) members.push_back(present.member());
    return members;
}

std::uint64_t MemoryBroker::announce(RoomLog& log, const std::string& room_id,
                                     const v1::Member& member, bool joined) {
    auto event = std::make_shared<v1::Event>();
    event->set_room_id(room_id);
    event->set_time_ms(clock_());
    event->set_presence_version(++log.presence_version);
    if (joined) {
        *event->mutable_member_joined()->mutable_member() = member;
    } else {
        *event->mutable_member_left()->mutable_member() = member;
    }
    sink_.on_room_event(event);
    return log.presence_version;
}

void MemoryBroker::trim(RoomLog& log, std::uint64_t now_ms) const {
    while (log.events.size() > retention_.max_events) log.events.pop_front();
    const std::uint64_t max_age_ms = std::uint64_t{retention_.max_age_seconds} * 1000;
    while (!log.events.empty() && log.events.front()->time_ms() + max_age_ms < now_ms) {
        log.events.pop_front();
    }
}

void MemoryBroker::remember(RoomLog& log, std::string key, std::uint64_t seq) const {
    log.seq_by_dedupe_key.emplace(key, seq);
    log.dedupe_order.push_back(std::move(key));
    while (log.dedupe_order.size() > retention_.dedupe_window) {
        log.seq_by_dedupe_key.erase(log.dedupe_order.front());
        log.dedupe_order.pop_front();
    }
}

HistorySlice MemoryBroker::slice(RoomLog& log, const HistoryQuery& query) const {
    HistorySlice out;
    out.ok = true;
    out.last_seq = log.last_seq;
    if (log.events.empty()) {
        out.complete = query.after_seq >= log.last_seq;
        return out;
    }
    const std::uint64_t oldest = log.events.front()->seq();
    const std::uint64_t newest = log.events.back()->seq();
    out.oldest_seq = oldest;
    // A gap exists when events after `after_seq` were trimmed, or when the client claims a
    // sequence number this room never reached (its history is from before a restart).
    out.complete = query.after_seq + 1 >= oldest && query.after_seq <= log.last_seq;

    // The inclusive range [first, last] of retained sequence numbers the query covers.
    std::uint64_t first = std::max(oldest, query.after_seq + 1);
    std::uint64_t last = query.before_seq == 0 ? newest : std::min(newest, query.before_seq - 1);
    if (query.before_seq != 0 && query.before_seq <= oldest) return out;
    if (first > last) return out;

    const std::uint64_t available = last - first + 1;
    const std::uint64_t take = std::min<std::uint64_t>(available, query.limit);
    if (query.newest) {
        first = last - take + 1;
    } else {
        last = first + take - 1;
    }
    out.has_more = take < available;
    for (std::uint64_t seq = first; seq <= last; ++seq) {
        out.events.push_back(log.events[seq - oldest]);
    }
    return out;
}

}  // namespace haven::broker
