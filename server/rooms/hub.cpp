#include "rooms/hub.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "protocol/event_privacy.hpp"
#include "rooms/visible_events.hpp"
#include "session/client_session.hpp"

namespace haven::rooms {

using session::ClientSession;

namespace {

// The separate numbers in a resource's phone field, e.g. "0800 111 0 111, 0800 111 0 222
// oder 116 123": runs of digits and the spacing people write inside numbers.
std::vector<std::string> phone_numbers_in(std::string_view field) {
    std::vector<std::string> numbers;
    std::string current;
    std::size_t digits = 0;
    const auto flush = [&] {
        if (digits >= 3) numbers.push_back(current);
        current.clear();
        digits = 0;
    };
    for (char c : field) {
        const bool digit = c >= '0' && c <= '9';
        if (digit || c == ' ' || c == '+' || c == '-' || c == '.') {
            current.push_back(c);
            digits += digit ? 1 : 0;
        } else {
            flush();
        }
    }
    flush();
    return numbers;
}

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

Hub::Hub(unsigned shard, core::ServerContext& context, core::ShardRouter& router)
    : shard_(shard),
      context_(context),
      router_(router),
      counters_(context.metrics.shard(shard)),
      room_list_(context.directory),
      fanout_(
          local_members_, counters_,
          [this](std::chrono::milliseconds delay, std::function<void()> task) {
              if (!routing_) return;
              if (delay.count() == 0) {
                  router_.post(shard_, std::move(task));
              } else {
                  router_.post_after(shard_, delay, std::move(task));
              }
          },
          std::chrono::milliseconds(context.config.limits.presence_delay_ms)),
      actor_label_key_(context.guest_passes.derived_key("haven audit actor labels")) {
    // People share crisis lines with each other on purpose; redaction leaves them alone.
    if (context_.crisis != nullptr) {
        for (const auto& list : context_.crisis->lists()) {
            for (const auto& resource : list.resources) {
                for (std::string& number : phone_numbers_in(resource.phone)) {
                    crisis_line_numbers_.push_back(std::move(number));
                }
            }
        }
    }
}

Hub::~Hub() = default;

void Hub::connect(std::vector<Hub*> all_hubs, std::unique_ptr<broker::Broker> broker) {
    hubs_ = std::move(all_hubs);
    broker_ = std::move(broker);
}

std::string Hub::session_name(std::uint64_t session_id) const {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%s-%llx", context_.instance_id.c_str(),
                  static_cast<unsigned long long>(session_id));
    return buffer;
}

// ---- local side -----------------------------------------------------------------------

void Hub::add_session(ClientSession& session) {
    check_owner();
    sessions_.emplace(session.id(), &session);
    counters_.add(counters_.connections_opened);
}

void Hub::remove_session(ClientSession& session) {
    check_owner();
    moderators_.erase(std::remove(moderators_.begin(), moderators_.end(), &session),
                      moderators_.end());
    for (const std::string& room_id : session.joined_rooms()) {
        drop_local_member(room_id, session);
        on_owner(room_id,
                 [room_id, id = session.id()](Hub& owner) { owner.owner_leave(room_id, id); });
    }
    if (sessions_.erase(session.id()) != 0) counters_.add(counters_.connections_closed);
}

ClientSession* Hub::find_session(std::uint64_t session_id) {
    auto found = sessions_.find(session_id);
    return found == sessions_.end() ? nullptr : found->second;
}

void Hub::drop_local_member(const std::string& room_id, ClientSession& session) {
    // During teardown the sessions are being destroyed: nothing may be written to them.
    if (routing_) fanout_.flush_room(room_id);
    auto found = local_members_.find(room_id);
    if (found == local_members_.end()) return;
    auto& members = found->second;
    members.erase(std::remove(members.begin(), members.end(), &session), members.end());
    if (members.empty()) local_members_.erase(found);
}

void Hub::join(ClientSession& session, std::uint64_t request_id, const v1::Join& join) {
    check_owner();
    MemberRecord record{session.member(), session.subject(), shard_, session.encoding()};
    // Others see the role this person has in this room (a room grant may raise it).
    record.member.set_role(session.role_in(join.room_id()));
    ReplyTo reply{shard_, session.id(), request_id};
    on_owner(join.room_id(), [room_id = join.room_id(), since = join.since_seq(), reply,
                              id = session.id(), record = std::move(record)](Hub& owner) mutable {
        owner.owner_join(room_id, id, std::move(record), since, reply);
    });
}

void Hub::leave(ClientSession& leaver, std::uint64_t request_id, const std::string& room_id) {
    check_owner();
    drop_local_member(room_id, leaver);
    // Left is sent once the owner has let the place go, so a Join that follows it (from
    // anyone) sees the room without this member.
    ReplyTo reply{shard_, leaver.id(), request_id};
    on_owner(room_id, [room_id, reply](Hub& owner) {
        owner.owner_leave(room_id, reply.session_id, [&owner, room_id, reply] {
            owner.on_session(reply,
                             [room_id, request = reply.request_id](Hub&, ClientSession* session) {
                                 if (!session) return;
                                 v1::ServerMessage message;
                                 message.set_request_id(request);
                                 message.mutable_left()->set_room_id(room_id);
                                 session->send(message);
                             });
        });
    });
}

void Hub::post(ClientSession& session, std::uint64_t request_id, const v1::Post& post) {
    check_owner();
    // Shared only because posted tasks must be copyable; the owner shard takes it over.
    auto event = std::make_shared<v1::Event>();
    event->set_room_id(post.room_id());
    v1::Posted* posted = event->mutable_posted();
    posted->set_text(post.text());
    posted->set_client_msg_id(post.client_msg_id());
    posted->set_content_warning(post.content_warning());
    ReplyTo reply{shard_, session.id(), request_id};
    on_owner(post.room_id(), [event = std::move(event), reply, id = session.id(),
                              client_msg_id = post.client_msg_id()](Hub& owner) mutable {
        owner.owner_post(std::make_unique<v1::Event>(std::move(*event)), std::move(client_msg_id),
                         id, reply);
    });
}

void Hub::typing(ClientSession& session, const v1::Typing& typing) {
    check_owner();
    on_owner(typing.room_id(),
             [room_id = typing.room_id(), active = typing.active(), id = session.id()](Hub& owner) {
                 owner.owner_typing(room_id, id, active);
             });
}

void Hub::history(ClientSession& session, std::uint64_t request_id,
                  const v1::HistoryRequest& request) {
    check_owner();
    broker::HistoryQuery query;
    query.room_id = request.room_id();
    query.after_seq = request.after_seq();
    query.before_seq = request.before_seq();
    const std::uint32_t max_page = context_.config.history.max_page;
    query.limit = request.limit() == 0 ? max_page : std::min(request.limit(), max_page);
    // Paging forwards from after_seq reads the oldest end of the range, otherwise the newest.
    query.newest = request.after_seq() == 0;
    ReplyTo reply{shard_, session.id(), request_id};
    on_owner(request.room_id(), [query = std::move(query), reply, id = session.id()](Hub& owner) {
        owner.owner_history(query, id, reply);
    });
}

void Hub::deliver_local(std::shared_ptr<const EncodedEvent> event) {
    check_owner();
    if (local_members_.count(event->room_id) != 0) fanout_.add(std::move(event));
}

void Hub::sweep(core::SteadyTime now) {
    check_owner();
    std::vector<ClientSession*> late;
    for (const auto& [id, session] : sessions_) {
        if (!session->authenticated() && session->hello_deadline() < now) late.push_back(session);
    }
    // Idle checks may close sockets, which never calls back into the Hub inline.
    for (const auto& [id, session] : sessions_) session->tick(now);
    for (ClientSession* session : late) session->close(protocol::CloseCode::hello_timeout);
    expire_waiting_joins(now);
}

void Hub::ask_to_reconnect(std::uint32_t spread_ms) {
    thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<std::uint32_t> delay(0, spread_ms);
    for (const auto& [id, session] : sessions_) {
        v1::ServerMessage message;
        message.mutable_reconnect()->set_after_ms(delay(rng));
        session->send(message);
    }
}

void Hub::close_all(protocol::CloseCode code) {
    std::vector<ClientSession*> all;
    all.reserve(sessions_.size());
    for (const auto& [id, session] : sessions_) all.push_back(session);
    for (ClientSession* session : all) session->close(code);
}

// ---- owner side -------------------------------------------------------------------------

Room& Hub::room(const config::RoomConfig& config) {
    auto& slot = owned_rooms_[config.id];
    if (!slot) slot = std::make_unique<Room>(config, static_cast<unsigned>(hubs_.size()));
    return *slot;
}

Room* Hub::existing_room(const std::string& room_id) {
    auto found = owned_rooms_.find(room_id);
    return found == owned_rooms_.end() ? nullptr : found->second.get();
}

void Hub::owner_join(const std::string& room_id, std::uint64_t session_id, MemberRecord record,
                     std::uint64_t since_seq, ReplyTo reply) {
    check_owner();
    const config::RoomConfig* config = context_.directory.find(room_id);
    if (config == nullptr) return refuse_join(room_id, reply, v1::UNKNOWN_ROOM, "no such room");
    if (room(*config).contains(session_id)) {
        return refuse_join(room_id, reply, v1::ALREADY_JOINED, "already in this room");
    }
    // The moderation state must be known before anyone is let in: bans apply to joining.
    auto shared_record = std::make_shared<MemberRecord>(std::move(record));
    with_moderation(room(*config), [this, room_id, session_id, since_seq, reply, config,
                                    shared_record](bool loaded) {
        if (!loaded) {
            return refuse_join(room_id, reply, v1::UNAVAILABLE,
                               "the room cannot be reached right now; try again", 1000);
        }
        const std::string& subject = shared_record->subject;
        if (globally_banned(subject) ||
            room(*config).moderation.banned_until(subject, core::wall_ms())) {
            return refuse_join(room_id, reply, v1::BANNED, "you can't join this room");
        }
        admit(room_id, session_id, since_seq, reply, *config, std::move(*shared_record));
    });
}

void Hub::admit(const std::string& room_id, std::uint64_t session_id, std::uint64_t since_seq,
                ReplyTo reply, const config::RoomConfig& room_config, MemberRecord record) {
    const config::RoomConfig* config = &room_config;
    v1::PresenceRecord presence;
    *presence.mutable_member() = record.member;
    presence.set_subject(record.subject);
    broker_->add_member(
        room_id, presence, config->capacity,
        [this, room_id, session_id, since_seq, reply, config,
         record = std::move(record)](broker::JoinOutcome outcome) mutable {
            using Status = broker::JoinOutcome::Status;
            switch (outcome.status) {
                case Status::joined:
                    break;
                case Status::full:
                    return refuse_join(room_id, reply, v1::ROOM_FULL,
                                       "this room is full right now");
                case Status::already_member:
                    return refuse_join(room_id, reply, v1::ALREADY_JOINED, "already in this room");
                case Status::unavailable:
                    return refuse_join(room_id, reply, v1::UNAVAILABLE,
                                       "the room cannot be reached right now; try again", 1000);
            }
            Room& state = room(*config);
            state.add(session_id, std::move(record));
            // The first member here: the room's member list starts from this join's.
            if (!state.presence.known()) {
                state.presence.reset(outcome.members, outcome.presence_version);
            }
            if (state.size() == 1) {
                counters_.add(counters_.rooms_owned_active);
                broker_->subscribe(room_id);
            }
            context_.directory.publish_member_count(
                room_id, static_cast<std::uint32_t>(outcome.members.size()));
            read_join_history(room_id, session_id, since_seq, outcome.presence_version, reply);
        });
}

void Hub::refuse_join(const std::string& room_id, const ReplyTo& reply, v1::ErrorCode code,
                      std::string_view message, std::uint32_t retry_after_ms) {
    on_session(reply, [room_id, code, message = std::string(message), retry_after_ms,
                       request = reply.request_id](Hub&, ClientSession* session) {
        if (!session) return;
        session->on_join_settled(room_id, false);
        session->send_error(request, code, message, retry_after_ms);
    });
}

void Hub::read_join_history(const std::string& room_id, std::uint64_t session_id,
                            std::uint64_t since_seq, std::uint64_t presence_version,
                            ReplyTo reply) {
    broker::HistoryQuery query;
    query.room_id = room_id;
    if (since_seq > 0) {
        query.after_seq = since_seq;
        query.limit = context_.config.history.max_events;
        query.newest = false;
    } else {
        query.limit = context_.config.history.join_events;
    }
    PendingJoin join;
    join.session_id = session_id;
    join.reply = reply;
    join.presence_version = presence_version;
    join.since = core::steady_now();
    broker_->read_history(query, [this, room_id, since_seq,
                                  join = std::move(join)](broker::HistorySlice slice) mutable {
        if (since_seq == 0 || !slice.ok || slice.complete) {
            join.slice = std::move(slice);
            return settle_join(std::move(join), room_id);
        }
        // Recovery cannot be complete: send the recent tail and say so.
        broker::HistoryQuery tail;
        tail.room_id = room_id;
        tail.limit = context_.config.history.join_events;
        broker_->read_history(
            tail, [this, room_id, join = std::move(join)](broker::HistorySlice recent) mutable {
                join.recovered = false;
                join.slice = std::move(recent);
                settle_join(std::move(join), room_id);
            });
    });
}

void Hub::owner_leave(const std::string& room_id, std::uint64_t session_id,
                      std::function<void()> done) {
    check_owner();
    Room* state = existing_room(room_id);
    std::optional<MemberRecord> record =
        state == nullptr ? std::nullopt : state->remove(session_id);
    if (!record) {
        if (done) done();
        return;
    }
    if (state->empty()) {
        counters_.sub(counters_.rooms_owned_active);
        broker_->unsubscribe(room_id);
        // Events stop arriving once unsubscribed: reload the state when the room is next used.
        state->moderation_loaded = false;
        state->presence.clear();
        state->pending_joins.clear();
    }
    broker_->remove_member(
        room_id, record->member,
        [this, room_id, done = std::move(done)](std::optional<std::uint32_t> remaining) {
            if (remaining) {
                context_.directory.publish_member_count(room_id, *remaining);
            }
            if (done) done();
        });
}

void Hub::owner_post(std::unique_ptr<v1::Event> event, std::string client_msg_id,
                     std::uint64_t session_id, ReplyTo reply) {
    check_owner();
    Room* state = existing_room(event->room_id());
    const MemberRecord* author = state ? state->find(session_id) : nullptr;
    if (author == nullptr) return reply_error(reply, v1::NOT_JOINED, "join the room first");
    *event->mutable_posted()->mutable_author() = author->member;
    event->mutable_posted()->set_author_subject(author->subject);
    // Retries are recognised per author, so two people may pick the same client id.
    std::string dedupe_key =
        client_msg_id.empty() ? std::string() : author->subject + '\n' + client_msg_id;
    screen_and_publish(std::move(event), std::move(dedupe_key), session_id, reply);
}

void Hub::publish_post(std::unique_ptr<v1::Event> event, std::string dedupe_key, ReplyTo reply,
                       std::optional<moderation::CrisisMatch> crisis) {
    const std::string room_id = event->room_id();
    const std::string client_msg_id = event->posted().client_msg_id();
    // Kept for the moderators' item when the post needs their attention.
    std::shared_ptr<v1::Event> copy =
        crisis ? std::make_shared<v1::Event>(*event) : std::shared_ptr<v1::Event>();
    const core::SteadyTime started = core::steady_now();
    const config::LimitsConfig& limits = context_.config.limits;
    broker::AuthorLimit limit{event->posted().author_subject(), limits.posts_per_second,
                              static_cast<double>(limits.post_burst)};
    broker_->publish(
        std::move(event), std::move(dedupe_key), std::move(limit),
        [this, reply, started, room_id, client_msg_id, crisis = std::move(crisis),
         copy](broker::PublishOutcome outcome) {
            counters_.observe_publish_latency(
                std::chrono::duration<double, std::milli>(core::steady_now() - started).count());
            using Status = broker::PublishOutcome::Status;
            if (outcome.status == Status::unavailable) {
                return reply_error(reply, v1::UNAVAILABLE,
                                   "the message was not stored; send it again", 1000);
            }
            if (outcome.status == Status::rate_limited) {
                counters_.add(counters_.rate_limited);
                return reply_error(reply, v1::RATE_LIMITED, "slow down a little",
                                   outcome.retry_after_ms);
            }
            std::optional<v1::Alert> resources;
            if (crisis && outcome.status == Status::published) {
                resources = crisis_alert(room_id, *crisis);
                copy->set_seq(outcome.seq);
                report_crisis(*copy, *crisis);
            }
            counters_.add(outcome.status == Status::duplicate ? counters_.posts_duplicate
                                                              : counters_.posts_acked);
            // The crisis resources travel in the same round trip as the Ack, before it (tasks
            // posted to one shard run in order).
            if (resources) send_alert(reply, *resources);
            v1::Ack ack;
            ack.set_room_id(room_id);
            ack.set_seq(outcome.seq);
            ack.set_client_msg_id(client_msg_id);
            ack.set_duplicate(outcome.status == Status::duplicate);
            reply_ack(reply, std::move(ack));
        });
}

void Hub::owner_typing(const std::string& room_id, std::uint64_t session_id, bool active) {
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

void Hub::owner_history(broker::HistoryQuery query, std::uint64_t session_id, ReplyTo reply) {
    check_owner();
    Room* state = existing_room(query.room_id);
    if (state == nullptr || !state->contains(session_id)) {
        return reply_error(reply, v1::NOT_JOINED, "join the room first");
    }
    const protocol::Encoding encoding = state->find(session_id)->encoding;
    const v1::Role viewer_role = state->find(session_id)->member.role();
    const bool newest = query.newest;
    std::string room_id = query.room_id;
    broker_->read_history(
        std::move(query), [this, reply, encoding, viewer_role, newest,
                           room_id = std::move(room_id)](broker::HistorySlice slice) {
            Room* room_now = existing_room(room_id);
            if (room_now == nullptr) return;
            v1::ServerMessage message;
            message.set_request_id(reply.request_id);
            if (!slice.ok) {
                v1::Error* error = message.mutable_error();
                error->set_code(v1::UNAVAILABLE);
                error->set_message("history is unavailable; try again");
                error->set_retry_after_ms(1000);
            } else {
                v1::HistoryPage* page = message.mutable_history();
                page->set_room_id(room_id);
                const bool trimmed = trim_to_budget(slice.events, newest);
                add_visible_events(*page->mutable_events(), slice.events, *room_now, viewer_role);
                page->set_has_more(slice.has_more || trimmed);
                page->set_oldest_seq(slice.oldest_seq);
            }
            protocol::Frame frame = protocol::encode_server_frame(message, encoding);
            on_session(reply, [frame = std::move(frame)](Hub&, ClientSession* session) {
                if (session) session->send_frame(frame);
            });
        });
}

void Hub::on_room_event(const broker::EventPtr& event) {
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
        enforce(*state, *event);
    }
    if (!state->empty()) fan_out(*state, *event);
    // Joins waiting for the stream to reach their snapshot may be ready now.
    if (!state->pending_joins.empty()) settle_waiting_joins(*state);
}

void Hub::fan_out(Room& state, const v1::Event& event) {
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
            deliver_local(shared);
        } else if (routing_) {
            Hub* target = hubs_[shard];
            router_.post(shard, [target, shared] { target->deliver_local(shared); });
        }
    }
}

}  // namespace haven::rooms
