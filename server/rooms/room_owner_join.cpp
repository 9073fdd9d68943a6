// Where a join's snapshot meets the live stream, on the room's owner shard.
//
// A join reads the room's history (up to last_seq L) and its member list (at presence version
// V) while events keep arriving through the broker's sink, which may stand before or after
// that snapshot: with Redis the read and the live events travel on different connections.
// Events the owner hands to the shards before the Joined are not delivered to the joiner (it
// is not yet a local member there) and every event after it is, in the order the owner posted
// them. So the Joined goes out at the moment the stream stands exactly at the snapshot:
//
//  * the stream is behind (delivered < L, or the presence view has not seen V yet): the join
//    waits in the room's pending_joins until the sink has handed over event L and V;
//  * the stream is ahead (delivered > L): the events between are read and added to the Joined.
//
// The member list is the owner's presence view at that moment, never the join's own read, so
// member_joined / member_left events after the Joined continue exactly from it.
#include <utility>

#include "protocol/event_privacy.hpp"
#include "rooms/hub.hpp"
#include "rooms/room_owner.hpp"
#include "rooms/visible_events.hpp"

namespace haven::rooms {

core::Awaitable<void> RoomOwner::read_join_history(const std::string& room_id, PendingJoin&& join,
                                                   std::uint64_t since_seq) {
    broker::HistoryQuery query;
    query.room_id = room_id;
    if (since_seq > 0) {
        query.after_seq = since_seq;
        query.limit = context_.config.history.max_events;
        query.newest = false;
    } else {
        query.limit = context_.config.history.join_events;
    }
    broker::Result<broker::HistorySlice> slice = co_await async_->read_history(query);
    if (slice && since_seq > 0 && !slice->complete) {
        // Recovery cannot be complete: send the recent tail and say so.
        broker::HistoryQuery tail;
        tail.room_id = room_id;
        tail.limit = context_.config.history.join_events;
        slice = co_await async_->read_history(std::move(tail));
        join.recovered = false;
    }
    if (slice) {
        join.slice = std::move(*slice);
        join.slice.ok = true;
    } else {
        join.slice.ok = false;
    }
    settle_join(std::move(join), room_id);
}

void RoomOwner::settle_join(PendingJoin join, const std::string& room_id) {
    check_owner();
    if (!hubs_[shard_]->routing()) return;  // shutting down: the broker may be going away
    Room* state = existing_room(room_id);
    if (state == nullptr || !state->contains(join.session_id)) {
        // Removed while the join was in flight: a kick or ban, the member left, or the room
        // closed.
        if (context_.directory.find(room_id) == nullptr) {
            return refuse_join(room_id, join.reply, v1::UNKNOWN_ROOM, "this room has closed");
        }
        return refuse_join(room_id, join.reply, v1::NOT_JOINED,
                           "the join did not complete; you are not in this room");
    }
    if (!join.slice.ok) {
        leave(room_id, join.session_id, ReplyTo{});
        return refuse_join(room_id, join.reply, v1::UNAVAILABLE,
                           "history is unavailable; try again", 1000);
    }
    // The member list must hold the joiner's own arrival, with nothing missing before it.
    if (state->presence.complete_through() < join.presence_version) {
        state->pending_joins.push_back(std::move(join));
        return;
    }
    const std::uint64_t snapshot = join.slice.last_seq;
    const std::uint64_t delivered = broker_->delivered_seq(room_id).value_or(snapshot);
    if (delivered > snapshot) {
        return core::spawn(loop(), read_past_snapshot(std::move(join), room_id, delivered));
    }
    if (delivered < snapshot) {
        state->pending_joins.push_back(std::move(join));
        return;
    }
    send_joined(*state, join);
}

core::Awaitable<void> RoomOwner::read_past_snapshot(PendingJoin join, std::string room_id,
                                                    std::uint64_t delivered) {
    // Events after the snapshot went out before this member was there: add them.
    broker::HistoryQuery query;
    query.room_id = room_id;
    query.after_seq = join.slice.last_seq;
    query.limit = context_.config.history.max_events;
    query.newest = false;
    broker::Result<broker::HistorySlice> more = co_await async_->read_history(std::move(query));
    if (!more) {
        join.slice.ok = false;
        co_return settle_join(std::move(join), room_id);
    }
    const std::uint64_t after = join.slice.last_seq;
    if (more->events.empty() || more->events.front()->seq() != after + 1) {
        // Trimmed from history meanwhile: those events are gone for this member.
        join.recovered = false;
    }
    if (more->events.empty()) {
        join.slice.last_seq = std::max(after, delivered);
    } else {
        join.slice.last_seq = more->events.back()->seq();
        for (auto& event : more->events) join.slice.events.push_back(std::move(event));
    }
    settle_join(std::move(join), room_id);
}

void RoomOwner::settle_waiting_joins(Room& state) {
    std::vector<PendingJoin> waiting = std::move(state.pending_joins);
    state.pending_joins.clear();
    const std::string room_id = state.config().id;
    for (PendingJoin& join : waiting) settle_join(std::move(join), room_id);
}

void RoomOwner::expire_waiting_joins(core::SteadyTime now) {
    check_owner();
    const auto timeout = std::chrono::milliseconds(context_.config.limits.join_sync_timeout_ms);
    for (auto& [room_id, state] : owned_rooms_) {
        auto& waiting = state->pending_joins;
        if (waiting.empty()) continue;
        // A presence change that never arrived (its live event was lost) is read instead.
        if (state->presence.complete_through() < waiting.front().presence_version) {
            refresh_presence(room_id);
        }
        std::vector<PendingJoin> expired;
        for (auto it = waiting.begin(); it != waiting.end();) {
            if (now - it->since < timeout) {
                ++it;
                continue;
            }
            expired.push_back(std::move(*it));
            it = waiting.erase(it);
        }
        for (PendingJoin& join : expired) {
            counters_.add(counters_.join_sync_timeouts);
            leave(room_id, join.session_id, ReplyTo{});
            refuse_join(room_id, join.reply, v1::UNAVAILABLE,
                        "the room cannot be reached right now; try again", 1000);
        }
    }
}

void RoomOwner::send_joined(Room& state, PendingJoin& join) {
    const std::string& room_id = state.config().id;
    const MemberRecord& joiner = *state.find(join.session_id);
    v1::ServerMessage message;
    message.set_request_id(join.reply.request_id);
    v1::Joined* joined = message.mutable_joined();
    std::vector<v1::Member> members = state.presence.members();
    state.fill_info(*joined->mutable_room(), static_cast<std::uint32_t>(members.size()));
    joined->mutable_members()->Reserve(static_cast<int>(members.size()));
    for (v1::Member& member : members) *joined->add_members() = std::move(member);
    joined->set_presence_version(state.presence.version());
    add_visible_events(*joined->mutable_events(), join.slice.events, state, joiner.member.role());
    joined->set_recovered(join.recovered);
    joined->set_last_seq(join.slice.last_seq);
    joined->set_locked(state.moderation.locked());
    joined->set_slow_mode_seconds(state.moderation.slow_mode_seconds());
    if (state.config().kind == config::RoomKind::meeting) {
        v1::MeetingState& meeting = *joined->mutable_meeting() = state.meeting;
        protocol::strip_internal_fields(meeting);
    }
    if (auto until = state.moderation.muted_until(joiner.subject, core::wall_ms())) {
        joined->set_muted(true);
        joined->set_muted_until_ms(*until);
    }
    protocol::Frame frame = protocol::encode_server_frame(message, joiner.encoding);
    // On this shard the member is added now: an event of the room handled before a posted
    // task would run would otherwise be delivered here without it.
    if (join.reply.shard == shard_) {
        return hubs_[shard_]->hand_over_join(room_id, join.session_id, frame);
    }
    replies_.to_shard(join.reply.shard,
                      [room_id, session_id = join.session_id, frame = std::move(frame)](Hub& home) {
                          home.hand_over_join(room_id, session_id, frame);
                      });
}

void RoomOwner::on_room_resubscribed(const std::string& room_id) {
    check_owner();
    Room* state = existing_room(room_id);
    if (state != nullptr && state->presence.known()) refresh_presence(room_id);
}

void RoomOwner::refresh_presence(const std::string& room_id) {
    check_owner();
    Room* state = existing_room(room_id);
    if (state == nullptr || !hubs_[shard_]->routing()) return;
    if (state->presence_read_in_flight) {
        // The read under way may predate what made this one necessary: read once more after.
        state->presence_read_again = true;
        return;
    }
    state->presence_read_in_flight = true;
    core::spawn(loop(), refresh_presence_flow(room_id));
}

core::Awaitable<void> RoomOwner::refresh_presence_flow(std::string room_id) {
    broker::Result<broker::PresenceSnapshot> snapshot = co_await async_->read_presence(room_id);
    Room* current = existing_room(room_id);
    if (current == nullptr || !hubs_[shard_]->routing()) co_return;
    current->presence_read_in_flight = false;
    const bool again = std::exchange(current->presence_read_again, false);
    if (!current->presence.known()) co_return;  // nobody here any more
    bool taken = false;
    if (snapshot) {
        counters_.add(counters_.presence_refreshes);
        const std::vector<v1::Event> corrections = current->presence.resync(
            room_id, snapshot->members, snapshot->version, core::wall_ms(), &taken);
        for (const v1::Event& correction : corrections) fan_out(*current, correction);
    }
    if (!taken || again || current->presence.has_gap()) {
        // Unreadable, too old, or changes newer than it are still missing: read again.
        router_.post_after(shard_, std::chrono::milliseconds(again && taken ? 0 : 50),
                           [this, room_id] { refresh_presence(room_id); });
    }
    if (!current->pending_joins.empty()) settle_waiting_joins(*current);
}

}  // namespace haven::rooms
