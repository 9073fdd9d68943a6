#include "rooms/room_owner.hpp"

#include <chrono>

#include "moderation/crisis_alert.hpp"
#include "moderation/post_screening.hpp"
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

std::string restriction_message(v1::ErrorCode code) {
    switch (code) {
        case v1::BANNED:
            return "you can't post in this room";
        case v1::MUTED:
            return "a moderator has paused your posting for now";
        case v1::ROOM_LOCKED:
            return "the room is locked for the moment";
        case v1::SLOW_MODE_WAIT:
            return "slow mode is on: please wait a little before posting";
        default:
            return "you can't post right now";
    }
}

constexpr std::string_view kNotStored = "the message was not stored; send it again";

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

bool RoomOwner::globally_banned(const std::string& subject) const {
    return hubs_[shard_]->globally_banned(subject);
}

Room& RoomOwner::room(const config::RoomConfig& config) {
    auto& slot = owned_rooms_[config.id];
    if (!slot) slot = std::make_unique<Room>(config, static_cast<unsigned>(hubs_.size()));
    return *slot;
}

Room* RoomOwner::existing_room(const std::string& room_id) {
    auto found = owned_rooms_.find(room_id);
    return found == owned_rooms_.end() ? nullptr : found->second.get();
}

core::Awaitable<bool> RoomOwner::load_moderation(Room& room) {
    // The cache follows the room's events only while this instance is subscribed, that is
    // while it has members here; otherwise the broker's copy is the truth.
    if (room.moderation_loaded && !room.empty()) co_return true;
    broker::Result<moderation::StateFields> fields = co_await async_->read_state(room.config().id);
    if (!fields) co_return false;
    room.moderation.load(*fields);
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
    const config::RoomConfig* config = context_.directory.find(room_id);
    if (config == nullptr) co_return refuse_join(room_id, reply, v1::UNKNOWN_ROOM, "no such room");
    Room& state = room(*config);
    if (state.contains(session_id)) {
        co_return refuse_join(room_id, reply, v1::ALREADY_JOINED, "already in this room");
    }
    // The moderation state must be known before anyone is let in: bans apply to joining.
    if (!co_await load_moderation(state)) {
        co_return refuse_join(room_id, reply, v1::UNAVAILABLE,
                              "the room cannot be reached right now; try again", 1000);
    }
    if (globally_banned(record.subject) ||
        state.moderation.banned_until(record.subject, core::wall_ms())) {
        co_return refuse_join(room_id, reply, v1::BANNED, "you can't join this room");
    }

    v1::PresenceRecord presence;
    *presence.mutable_member() = record.member;
    presence.set_subject(record.subject);
    broker::Result<broker::JoinOutcome> joined =
        co_await async_->add_member(room_id, presence, config->capacity);
    if (!joined) {
        switch (joined.error().reason) {
            case broker::Failure::Reason::room_full:
                co_return refuse_join(room_id, reply, v1::ROOM_FULL, "this room is full right now");
            case broker::Failure::Reason::already_member:
                co_return refuse_join(room_id, reply, v1::ALREADY_JOINED, "already in this room");
            default:
                co_return refuse_join(room_id, reply, v1::UNAVAILABLE,
                                      "the room cannot be reached right now; try again", 1000);
        }
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

void RoomOwner::leave(const std::string& room_id, std::uint64_t session_id, ReplyTo reply) {
    core::spawn(loop(), leave_flow(room_id, session_id, reply));
}

core::Awaitable<void> RoomOwner::leave_flow(std::string room_id, std::uint64_t session_id,
                                            ReplyTo reply) {
    check_owner();
    Room* state = existing_room(room_id);
    std::optional<MemberRecord> record =
        state == nullptr ? std::nullopt : state->remove(session_id);
    if (record) {
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

// ---- post --------------------------------------------------------------------------------

void RoomOwner::post(std::unique_ptr<v1::Event> event, ReplyTo reply) {
    core::spawn(loop(), post_flow(std::move(event), reply));
}

core::Awaitable<void> RoomOwner::post_flow(std::unique_ptr<v1::Event> event, ReplyTo reply) {
    check_owner();
    Room* state = existing_room(event->room_id());
    const MemberRecord* author = state ? state->find(reply.session_id) : nullptr;
    if (author == nullptr) co_return replies_.error(reply, v1::NOT_JOINED, "join the room first");
    v1::Posted* posted = event->mutable_posted();
    // Retries are recognised per author, so two people may pick the same client id.
    std::string dedupe_key = posted->client_msg_id().empty()
                                 ? std::string()
                                 : author->subject + '\n' + posted->client_msg_id();

    if (!co_await load_moderation(*state)) {
        co_return replies_.unavailable(reply, std::string(kNotStored));
    }
    author = state->find(reply.session_id);  // the author may have gone while it loaded
    if (author == nullptr) co_return replies_.error(reply, v1::NOT_JOINED, "join the room first");
    *posted->mutable_author() = author->member;
    posted->set_author_subject(author->subject);

    const moderation::PostAuthor who{author->subject, author->member.role(),
                                     globally_banned(author->subject)};
    const moderation::ScreeningRules rules{context_.config.moderation.redact_contact_details,
                                           crisis_line_numbers_, context_.crisis,
                                           state->config().crisis_policy};
    const std::uint64_t now = core::wall_ms();
    moderation::ScreeningVerdict verdict =
        moderation::screen_post(posted->text(), who, state->moderation, rules, now);
    if (verdict.redacted_text) {
        posted->set_text(std::move(*verdict.redacted_text));
        posted->set_redacted(true);
    }
    using Outcome = moderation::ScreeningVerdict::Outcome;
    if (verdict.outcome == Outcome::refuse) {
        if (verdict.crisis) {
            replies_.alert(reply, moderation::crisis_alert(*context_.crisis, event->room_id(),
                                                           *verdict.crisis));
            moderation_->crisis_seen(*event, *verdict.crisis);
        }
        co_return co_await refuse_post(event->room_id(), dedupe_key, verdict.restriction.code,
                                       verdict.restriction.retry_after_ms, reply);
    }
    state->moderation.note_post(author->subject, now);
    if (verdict.outcome == Outcome::hold) {
        co_return moderation_->hold_post(std::move(event), std::move(dedupe_key),
                                         std::move(verdict.crisis), reply);
    }
    co_await publish_post(std::move(event), std::move(dedupe_key), std::move(verdict.crisis),
                          reply);
}

core::Awaitable<void> RoomOwner::publish_post(std::unique_ptr<v1::Event>&& event,
                                              std::string&& dedupe_key,
                                              std::optional<moderation::CrisisMatch>&& crisis,
                                              ReplyTo reply) {
    const std::string room_id = event->room_id();
    const std::string client_msg_id = event->posted().client_msg_id();
    // Kept for the moderators' item when the post needs their attention.
    std::optional<v1::Event> copy;
    if (crisis) copy = *event;
    const core::SteadyTime started = core::steady_now();
    const config::LimitsConfig& limits = context_.config.limits;
    broker::AuthorLimit limit{event->posted().author_subject(), limits.posts_per_second,
                              static_cast<double>(limits.post_burst)};
    broker::Result<broker::Published> published =
        co_await async_->publish(std::move(event), std::move(dedupe_key), std::move(limit));
    counters_.observe_publish_latency(
        std::chrono::duration<double, std::milli>(core::steady_now() - started).count());
    if (!published) {
        if (published.error().reason == broker::Failure::Reason::rate_limited) {
            counters_.add(counters_.rate_limited);
            co_return replies_.error(reply, v1::RATE_LIMITED, "slow down a little",
                                     published.error().retry_after_ms);
        }
        co_return replies_.unavailable(reply, std::string(kNotStored));
    }
    if (crisis && !published->duplicate) {
        // The resources travel in the same round trip as the Ack, before it (tasks posted to
        // one shard run in order).
        replies_.alert(reply, moderation::crisis_alert(*context_.crisis, room_id, *crisis));
        copy->set_seq(published->seq);
        moderation_->crisis_seen(*copy, *crisis);
    }
    counters_.add(published->duplicate ? counters_.posts_duplicate : counters_.posts_acked);
    v1::Ack ack;
    ack.set_room_id(room_id);
    ack.set_seq(published->seq);
    ack.set_client_msg_id(client_msg_id);
    ack.set_duplicate(published->duplicate);
    replies_.ack(reply, std::move(ack));
}

core::Awaitable<void> RoomOwner::refuse_post(const std::string& room_id,
                                             const std::string& dedupe_key, v1::ErrorCode code,
                                             std::uint32_t retry_after_ms, ReplyTo reply) {
    if (!dedupe_key.empty()) {
        // A retry of something stored before the restriction began is still acknowledged.
        broker::Result<std::uint64_t> seq = co_await async_->find_duplicate(room_id, dedupe_key);
        if (seq && *seq != 0) {
            v1::Ack ack;
            ack.set_room_id(room_id);
            ack.set_seq(*seq);
            ack.set_client_msg_id(dedupe_key.substr(dedupe_key.find('\n') + 1));
            ack.set_duplicate(true);
            co_return replies_.ack(reply, std::move(ack));
        }
    }
    replies_.error(reply, code, restriction_message(code), retry_after_ms);
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
