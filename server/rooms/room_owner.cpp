#include "rooms/room_owner.hpp"

#include <chrono>

#include "meetings/meeting_store.hpp"
#include "moderation/crisis_alert.hpp"
#include "protocol/event_privacy.hpp"
#include "rooms/hub.hpp"
#include "rooms/server_wide.hpp"
#include "rooms/visible_events.hpp"

namespace haven::rooms {
namespace {

// A History page stays well under a session's outbound queue, so a client paging quickly
// through long posts is never mistaken for one falling behind.
constexpr std::size_t kHistoryPageBudgetBytes = 256 * 1024;

// Drops events beyond the byte budget from the far end of the page (the oldest when paging
// backwards, the newest when paging forwards); keeps at least one. True when it dropped any.
bool trim_to_budget(std::vector<broker::EventPtr>& events, bool keep_newest) {
    std::size_t bytes = 0;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& event = keep_newest ? events[events.size() - 1 - i] : events[i];
        bytes += event->ByteSizeLong();
        if (kept > 0 && bytes > kHistoryPageBudgetBytes) break;
        ++kept;
    }
    if (kept == events.size()) return false;
    if (keep_newest) {
        events.erase(events.begin(), events.end() - static_cast<std::ptrdiff_t>(kept));
    } else {
        events.resize(kept);
    }
    return true;
}

}  // namespace

RoomOwner::RoomOwner(unsigned shard, core::ServerContext& context, core::ShardRouter& router,
                     const std::vector<Hub*>& hubs, ServerWide& server_wide)
    : shard_(shard),
      context_(context),
      router_(router),
      counters_(context.metrics.shard(shard)),
      hubs_(hubs),
      server_wide_(server_wide),
      replies_(router, hubs),
      crisis_line_numbers_(moderation::crisis_line_numbers(context.crisis)) {}

RoomOwner::~RoomOwner() = default;

void RoomOwner::connect(std::unique_ptr<broker::Broker> broker) {
    broker_ = std::move(broker);
    async_.emplace(*broker_);
}

void RoomOwner::release_broker() {
    async_.reset();
    broker_.reset();
}

bool RoomOwner::globally_banned(const std::string& subject, const std::string& address_key) const {
    return hubs_[shard_]->globally_banned(subject, address_key);
}

std::shared_ptr<Room> RoomOwner::room(const RoomRef& config) {
    auto& slot = owned_rooms_[config->id];
    if (!slot) slot = std::make_shared<Room>(config, static_cast<unsigned>(hubs_.size()));
    return slot;
}

Room* RoomOwner::existing_room(const std::string& room_id) {
    auto found = owned_rooms_.find(room_id);
    return found == owned_rooms_.end() ? nullptr : found->second.get();
}

bool RoomOwner::moderation_known(const Room& room) {
    // The cache follows the room's events only while this instance is subscribed, that is
    // while it has members here; otherwise the broker's copy is the truth.
    return room.moderation_loaded && !room.empty();
}

core::Awaitable<bool> RoomOwner::load_moderation(Room& room) {
    if (moderation_known(room)) co_return true;
    broker::Result<moderation::StateFields> fields = co_await async_->read_state(room.config().id);
    if (!fields) co_return false;
    room.moderation.load(*fields);
    meetings::keep_newer(room.meeting, meetings::load_meeting(*fields));
    room.moderation_loaded = true;
    co_return true;
}

// ---- join --------------------------------------------------------------------------------

void RoomOwner::join(const std::string& room_id, MemberRecord record, std::uint64_t since_seq,
                     ReplyTo reply) {
    core::spawn(loop(), join_flow(room_id, std::move(record), since_seq, reply));
}

core::Awaitable<void> RoomOwner::join_flow(std::string room_id, MemberRecord record,
                                           std::uint64_t since_seq, ReplyTo reply) {
    check_owner();
    const std::uint64_t session_id = reply.session_id;
    const RoomRef config = context_.directory.find(room_id);
    if (config == nullptr) co_return refuse_join(room_id, reply, v1::UNKNOWN_ROOM, "no such room");
    const std::shared_ptr<Room> held = room(config);
    Room& state = *held;
    if (state.contains(session_id)) {
        co_return refuse_join(room_id, reply, v1::ALREADY_JOINED, "already in this room");
    }
    // The moderation state must be known before anyone is let in: bans apply to joining.
    if (!moderation_known(state)) {
        const bool loaded = co_await load_moderation(state);
        if (!loaded) {
            co_return refuse_join(room_id, reply, v1::UNAVAILABLE,
                                  "the room cannot be reached right now; try again", 1000);
        }
    }
    const std::uint64_t now_ms = core::wall_ms();
    const bool banned = globally_banned(record.subject) ||
                        state.moderation.banned_until(record.subject, now_ms).has_value();
    if (banned || globally_banned(record.subject, record.address_key) ||
        state.moderation.banned_until(record.subject, now_ms, record.address_key)) {
        // A new guest from the address of a banned one: the ban holds.
        if (!banned) counters_.refuse(core::Refusal::banned_address);
        co_return refuse_join(room_id, reply, v1::BANNED, "you can't join this room");
    }

    v1::PresenceRecord presence;
    *presence.mutable_member() = record.member;
    presence.set_subject(record.subject);
    presence.set_handle_key(record.handle_key);
    presence.set_address_key(record.address_key);
    // Those who hold the room (peer supporters, moderators, operators) are never kept out
    // by a full room: a full room is when they are most needed.
    const bool staff = record.member.role() >= v1::ROLE_PEER_SUPPORTER;
    const std::uint32_t capacity = staff ? broker::kNoCapacityLimit : config->capacity;
    broker::Result<broker::JoinOutcome> joined =
        co_await async_->add_member(room_id, presence, capacity);
    if (!joined) {
        switch (joined.error().reason) {
            case broker::Failure::Reason::room_full:
                co_return refuse_join(room_id, reply, v1::ROOM_FULL, "this room is full right now");
            case broker::Failure::Reason::already_member:
                co_return refuse_join(room_id, reply, v1::ALREADY_JOINED, "already in this room");
            case broker::Failure::Reason::handle_taken:
                co_return refuse_join(room_id, reply, v1::HANDLE_UNAVAILABLE,
                                      "someone in this room goes by a name like yours; come "
                                      "back under another name");
            default:
                co_return refuse_join(room_id, reply, v1::UNAVAILABLE,
                                      "the room cannot be reached right now; try again", 1000);
        }
    }
    if (existing_room(room_id) != &state) {
        // The room closed while the join was on its way: take back the arrival.
        co_await async_->remove_member(room_id, record.member);
        co_return refuse_join(room_id, reply, v1::UNKNOWN_ROOM, "this room has closed");
    }
    state.add(session_id, std::move(record));
    // The first member here: the room's member list starts from this join's.
    if (!state.presence.known()) state.presence.reset(joined->members, joined->presence_version);
    if (state.size() == 1) {
        counters_.add(counters_.rooms_owned_active);
        broker_->subscribe(room_id);
    }
    context_.directory.publish_member_count(room_id,
                                            static_cast<std::uint32_t>(joined->members.size()));
    PendingJoin join;
    join.session_id = session_id;
    join.reply = reply;
    join.presence_version = joined->presence_version;
    join.since = core::steady_now();
    co_await read_join_history(room_id, std::move(join), since_seq);
}

void RoomOwner::refuse_join(const std::string& room_id, const ReplyTo& reply, v1::ErrorCode code,
                            std::string message, std::uint32_t retry_after_ms) {
    replies_.to_session(reply, [room_id, code, message = std::move(message), retry_after_ms,
                                request = reply.request_id](Hub&, LocalSession& session) {
        session.on_join_settled(room_id, false);
        session.send_error(request, code, message, retry_after_ms);
    });
}

// ---- leave -------------------------------------------------------------------------------

void RoomOwner::leave(const std::string& room_id, std::uint64_t session_id, ReplyTo reply,
                      LeaveCause cause) {
    core::spawn(loop(), leave_flow(room_id, session_id, reply, cause));
}

core::Awaitable<void> RoomOwner::leave_flow(std::string room_id, std::uint64_t session_id,
                                            ReplyTo reply, LeaveCause cause) {
    check_owner();
    Room* state = existing_room(room_id);
    std::optional<MemberRecord> record =
        state == nullptr ? std::nullopt : state->remove(session_id);
    if (record) {
        // Gone from the room here (no other session of theirs stays in it on this instance).
        if (cause == LeaveCause::own && moderation_ != nullptr &&
            state->sessions_of(record->subject).empty()) {
            moderation_->member_left(room_id, record->subject);
        }
        if (state->empty()) {
            counters_.sub(counters_.rooms_owned_active);
            broker_->unsubscribe(room_id);
            // Events stop arriving once unsubscribed: reload the state when next used.
            state->moderation_loaded = false;
            state->presence.clear();
            state->pending_joins.clear();
        }
        broker::Result<std::uint32_t> remaining =
            co_await async_->remove_member(room_id, record->member);
        if (remaining) context_.directory.publish_member_count(room_id, *remaining);
    }
    v1::ServerMessage left;
    left.mutable_left()->set_room_id(room_id);
    replies_.message(reply, std::move(left));
}

void RoomOwner::close_room(const std::string& room_id) {
    core::spawn(loop(), close_room_flow(room_id));
}

core::Awaitable<void> RoomOwner::close_room_flow(std::string room_id) {
    check_owner();
    if (auto found = owned_rooms_.find(room_id); found != owned_rooms_.end()) {
        const std::shared_ptr<Room> state = found->second;
        for (const PendingJoin& join : state->pending_joins) {
            refuse_join(room_id, join.reply, v1::UNKNOWN_ROOM, "this room has closed");
        }
        state->pending_joins.clear();
        for (const std::uint64_t session_id : state->session_ids()) {
            const MemberRecord* member = state->find(session_id);
            if (member == nullptr) continue;  // left meanwhile
            replies_.to_shard(member->shard, [room_id, session_id](Hub& hub) {
                hub.remove_from_room(room_id, session_id, Hub::Removal::room_closed);
            });
            co_await leave_flow(room_id, session_id, ReplyTo{}, LeaveCause::room_closed);
        }
        if (existing_room(room_id) == state.get()) owned_rooms_.erase(room_id);
    }
    broker_->forget_room(room_id);
}

// ---- typing and history ------------------------------------------------------------------

void RoomOwner::typing(const std::string& room_id, std::uint64_t session_id, bool active) {
    check_owner();
    Room* state = existing_room(room_id);
    const MemberRecord* member = state ? state->find(session_id) : nullptr;
    if (member == nullptr) return;  // typing is best effort: no error for a stale indicator
    auto event = std::make_shared<v1::Event>();
    event->set_room_id(room_id);
    event->set_time_ms(core::wall_ms());
    v1::TypingChanged* typing = event->mutable_typing();
    *typing->mutable_member() = member->member;
    typing->set_active(active);
    broker_->publish_ephemeral(std::move(event));
}

void RoomOwner::history(broker::HistoryQuery query, ReplyTo reply) {
    core::spawn(loop(), history_flow(std::move(query), reply));
}

core::Awaitable<void> RoomOwner::history_flow(broker::HistoryQuery query, ReplyTo reply) {
    check_owner();
    Room* state = existing_room(query.room_id);
    const MemberRecord* reader = state ? state->find(reply.session_id) : nullptr;
    if (reader == nullptr) co_return replies_.error(reply, v1::NOT_JOINED, "join the room first");
    const protocol::Encoding encoding = reader->encoding;
    const v1::Role viewer_role = reader->member.role();
    const bool newest = query.newest;
    const std::string room_id = query.room_id;
    broker::Result<broker::HistorySlice> slice = co_await async_->read_history(std::move(query));
    v1::ServerMessage message;
    message.set_request_id(reply.request_id);
    if (!slice) {
        v1::Error* error = message.mutable_error();
        error->set_code(v1::UNAVAILABLE);
        error->set_message("history is unavailable; try again");
        error->set_retry_after_ms(1000);
    } else {
        v1::HistoryPage* page = message.mutable_history();
        page->set_room_id(room_id);
        const bool trimmed = trim_to_budget(slice->events, newest);
        add_visible_events(*page->mutable_events(), slice->events, *state, viewer_role);
        page->set_has_more(slice->has_more || trimmed);
        page->set_oldest_seq(slice->oldest_seq);
    }
    replies_.frame(reply, protocol::encode_server_frame(message, encoding));
}

// ---- the sink: events on their way to the members ----------------------------------------

void RoomOwner::on_room_event(const broker::EventPtr& event) {
    check_owner();
    Room* state = existing_room(event->room_id());
    if (state == nullptr) return;
    if (event->has_member_joined() || event->has_member_left()) {
        switch (state->presence.apply(*event)) {
            case RoomPresence::Verdict::stale:
                return;  // told already (or nobody here to tell)
            case RoomPresence::Verdict::gap:
                refresh_presence(event->room_id());
                break;
            case RoomPresence::Verdict::applied:
                break;
        }
    }
    if (moderation::is_moderation_event(*event)) {
        if (state->moderation_loaded) state->moderation.apply(*event);
        if (moderation_ != nullptr) moderation_->enforce(*state, *event);
    }
    if (event->has_meeting()) meetings::keep_newer(state->meeting, event->meeting());
    if (!state->empty()) fan_out(*state, *event);
    // Joins waiting for the stream to reach their snapshot may be ready now.
    if (!state->pending_joins.empty()) settle_waiting_joins(*state);
}

void RoomOwner::on_global_event(const broker::EventPtr& event) {
    server_wide_.on_global_event(event);
}

void RoomOwner::on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item) {
    server_wide_.on_moderation_item(item);
}

bool RoomOwner::moderator_on_duty(const std::string& room_id) const {
    return hubs_[shard_]->duty().covers(room_id);
}

moderation::HumanSide RoomOwner::human_side(const std::string& room_id) const {
    if (!context_.config.safety.tell_author) return moderation::HumanSide::untold;
    return moderator_on_duty(room_id) ? moderation::HumanSide::moderator_told
                                      : moderation::HumanSide::nobody_on_duty;
}

void RoomOwner::on_duty_report(const std::shared_ptr<const v1::DutyReport>& report) {
    server_wide_.duty_board().on_report(*report);
}

void RoomOwner::fan_out(Room& state, const v1::Event& event) {
    check_owner();
    v1::ServerMessage message;
    *message.mutable_event() = event;
    protocol::strip_internal_fields(*message.mutable_event());
    auto encoded = std::make_shared<EncodedEvent>();
    encoded->room_id = event.room_id();
    encoded->presence = event.has_member_joined() || event.has_member_left();
    encoded->binary = protocol::encode_server_frame(message, protocol::Encoding::binary);
    if (state.has_json_members()) {
        encoded->json = protocol::encode_server_frame(message, protocol::Encoding::json);
    }
    std::shared_ptr<const EncodedEvent> shared = std::move(encoded);
    for (unsigned shard : state.shards_with_members()) {
        if (shard == shard_) {
            hubs_[shard]->deliver_local(shared);
        } else {
            replies_.to_shard(shard, [shared](Hub& hub) { hub.deliver_local(shared); });
        }
    }
}

}  // namespace haven::rooms
