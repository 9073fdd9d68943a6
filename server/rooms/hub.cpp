#include "rooms/hub.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "rooms/room_owner.hpp"
#include "rooms/server_wide.hpp"

namespace haven::rooms {

Hub::Hub(unsigned shard, core::ServerContext& context, core::ShardRouter& router)
    : shard_(shard),
      context_(context),
      router_(router),
      counters_(context.metrics.shard(shard)),
      room_list_(context.directory),
      fanout_(
          local_members_, counters_,
          [this](std::chrono::milliseconds delay, core::Task task) {
              if (!routing_) return;
              if (delay.count() == 0) {
                  router_.post(shard_, std::move(task));
              } else {
                  router_.post_after(shard_, delay, std::move(task));
              }
          },
          std::chrono::milliseconds(context.config.limits.presence_delay_ms)) {}

void Hub::connect(std::vector<RoomOwner*> owners, ServerWide& server_wide) {
    owners_ = std::move(owners);
    server_wide_ = &server_wide;
}

template <class Task>
void Hub::on_owner(const std::string& room_id, Task task) {
    if (!routing_) return;
    RoomOwner* owner = owners_[context_.directory.owner_shard(room_id)];
    router_.post(owner->shard(), [owner, task = std::move(task)]() mutable { task(*owner); });
}

std::string Hub::session_name(std::uint64_t session_id) const {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%s-%llx", context_.instance_id.c_str(),
                  static_cast<unsigned long long>(session_id));
    return buffer;
}

void Hub::add_session(LocalSession& session) {
    check_owner();
    sessions_.emplace(session.id(), &session);
    counters_.add(counters_.connections_opened);
}

void Hub::remove_session(LocalSession& session) {
    check_owner();
    remove_moderator(session);
    for (const std::string& room_id : session.joined_rooms()) {
        drop_local_member(room_id, session);
        on_owner(room_id, [room_id, id = session.id()](RoomOwner& owner) {
            owner.leave(room_id, id, ReplyTo{});
        });
    }
    if (sessions_.erase(session.id()) != 0) counters_.add(counters_.connections_closed);
}

LocalSession* Hub::find_session(std::uint64_t session_id) {
    check_owner();
    auto found = sessions_.find(session_id);
    return found == sessions_.end() ? nullptr : found->second;
}

void Hub::drop_local_member(const std::string& room_id, LocalSession& session) {
    // During teardown the sessions are being destroyed: nothing may be written to them.
    if (routing_) fanout_.flush_room(room_id);
    auto found = local_members_.find(room_id);
    if (found == local_members_.end()) return;
    auto& members = found->second;
    members.erase(std::remove(members.begin(), members.end(), &session), members.end());
    if (members.empty()) local_members_.erase(found);
}

void Hub::join(LocalSession& session, std::uint64_t request_id, const v1::Join& join) {
    check_owner();
    MemberRecord record{
        session.member(), session.subject(), session.handle_key(), session.address_key(),
        shard_,           session.encoding()};
    // Others see the role this person has in this room (a room grant may raise it).
    record.member.set_role(session.role_in(join.room_id()));
    ReplyTo reply{shard_, session.id(), request_id};
    on_owner(join.room_id(), [room_id = join.room_id(), since = join.since_seq(), reply,
                              record = std::move(record)](RoomOwner& owner) mutable {
        owner.join(room_id, std::move(record), since, reply);
    });
}

void Hub::leave(LocalSession& leaver, std::uint64_t request_id, const std::string& room_id) {
    check_owner();
    drop_local_member(room_id, leaver);
    // Left is sent once the owner has let the place go, so a Join that follows it (from
    // anyone) sees the room without this member.
    ReplyTo reply{shard_, leaver.id(), request_id};
    on_owner(room_id,
             [room_id, reply](RoomOwner& owner) { owner.leave(room_id, reply.session_id, reply); });
}

void Hub::post(LocalSession& session, std::uint64_t request_id, const v1::Post& post) {
    check_owner();
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(post.room_id());
    v1::Posted* posted = event->mutable_posted();
    posted->set_text(post.text());
    posted->set_client_msg_id(post.client_msg_id());
    posted->set_content_warning(post.content_warning());
    ReplyTo reply{shard_, session.id(), request_id};
    on_owner(post.room_id(), [event = std::move(event), reply](RoomOwner& owner) mutable {
        owner.post(std::move(event), reply);
    });
}

void Hub::typing(LocalSession& session, const v1::Typing& typing) {
    check_owner();
    on_owner(typing.room_id(),
             [room_id = typing.room_id(), active = typing.active(),
              id = session.id()](RoomOwner& owner) { owner.typing(room_id, id, active); });
}

void Hub::history(LocalSession& session, std::uint64_t request_id,
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
    on_owner(request.room_id(), [query = std::move(query), reply](RoomOwner& owner) mutable {
        owner.history(std::move(query), reply);
    });
}

void Hub::add_moderator(LocalSession& session) {
    check_owner();
    moderators_.push_back(&session);
    counters_.moderators_online.store(moderators_.size(), std::memory_order_relaxed);
}

void Hub::remove_moderator(LocalSession& session) {
    check_owner();
    moderators_.erase(std::remove(moderators_.begin(), moderators_.end(), &session),
                      moderators_.end());
    counters_.moderators_online.store(moderators_.size(), std::memory_order_relaxed);
}

void Hub::record_role(const LocalSession& session, const std::string& staff_name_key) {
    check_owner();
    if (!routing_) return;
    broker::KnownRole seen;
    seen.role = session.member().role();
    v1::Role highest = seen.role;
    for (const auto& [room, role] : session.room_roles()) {
        seen.room_roles[room] = role;
        highest = std::max(highest, role);
    }
    server_wide_->record_role(session.subject(), std::move(seen));
    // A staff name is remembered like a person, under a subject no token may have, for as
    // long as roles are (moderation.role_memory_days).
    // The second entry says whose it is, so the same person keeps their name after a demotion.
    if (highest >= v1::ROLE_PEER_SUPPORTER && !staff_name_key.empty()) {
        const std::string name_subject = std::string(kStaffNameSubjectPrefix) + staff_name_key;
        broker::KnownRole name;
        name.role = highest;
        server_wide_->record_role(name_subject + '\n' + session.subject(), name);
        server_wide_->record_role(name_subject, std::move(name));
    }
}

void Hub::check_staff_name(const LocalSession& session, const std::string& subject,
                           std::string name_key, StaffNameCallback done) {
    check_owner();
    if (!routing_ || name_key.empty()) return done(false);
    core::spawn(router_.context(shard_),
                staff_name_flow(session.id(), std::string(kStaffNameSubjectPrefix) + name_key,
                                subject, std::move(done)));
}

core::Awaitable<void> Hub::staff_name_flow(std::uint64_t session_id, std::string name_subject,
                                           std::string own_subject, StaffNameCallback done) {
    broker::Result<std::optional<broker::KnownRole>> found =
        co_await server_wide_->find_role(name_subject);
    bool staff_name = found && found->has_value() && (*found)->role >= v1::ROLE_PEER_SUPPORTER;
    if (staff_name) {
        // Theirs? A staff member whose token now says participant is still themselves.
        const std::string ownership = name_subject + '\n' + own_subject;
        broker::Result<std::optional<broker::KnownRole>> own =
            co_await server_wide_->find_role(ownership);
        if (!own) found = own;  // not asked: the answer is unknown
        staff_name = !(own && own->has_value());
    }
    check_owner();
    if (find_session(session_id) == nullptr) co_return;  // gone meanwhile
    if (!found) co_return done(std::nullopt);
    done(staff_name);
}

bool Hub::globally_banned(const std::string& subject, const std::string& address_key) const {
    return global_bans_.banned_until(subject, core::wall_ms(), address_key).has_value();
}

void Hub::hand_over_join(const std::string& room_id, std::uint64_t session_id,
                         const protocol::Frame& joined) {
    check_owner();
    LocalSession* session = find_session(session_id);
    if (session == nullptr) {
        // The connection ended while the join was in flight: undo the membership.
        return on_owner(room_id, [room_id, session_id](RoomOwner& owner) {
            owner.leave(room_id, session_id, ReplyTo{});
        });
    }
    fanout_.before_member_added(room_id);
    local_members_[room_id].push_back(session);
    session->on_join_settled(room_id, true);
    session->send_frame(joined);
}

void Hub::remove_from_room(const std::string& room_id, std::uint64_t session_id, Removal why) {
    check_owner();
    LocalSession* session = find_session(session_id);
    if (session == nullptr) return;
    drop_local_member(room_id, *session);
    static constexpr const char* kReasons[] = {"kicked", "banned", "closed"};
    session->on_removed(room_id, kReasons[static_cast<int>(why)]);
    // A ban ends the connection at once, as the moderator intends.
    if (why == Removal::banned) session->close(protocol::CloseCode::banned);
}

void Hub::close_room(const std::string& room_id) {
    on_owner(room_id, [room_id](RoomOwner& owner) { owner.close_room(room_id); });
}

void Hub::deliver_local(std::shared_ptr<const EncodedEvent> event) {
    check_owner();
    if (local_members_.count(event->room_id) != 0) fanout_.add(std::move(event));
}

void Hub::apply_global(const v1::Event& event) {
    check_owner();
    global_bans_.apply(event);
    const bool banned = event.has_member_removed() && event.member_removed().banned();
    if (!banned && !event.has_sessions_ended()) return;
    const std::string& subject =
        banned ? event.member_removed().subject() : event.sessions_ended().subject();
    std::vector<LocalSession*> ending;
    for (const auto& [id, session] : sessions_) {
        if (session->subject() == subject) ending.push_back(session);
    }
    const auto code = banned ? protocol::CloseCode::banned : protocol::CloseCode::disconnected;
    for (LocalSession* session : ending) session->close(code);
}

void Hub::deliver_item(const v1::ModerationItem& item) {
    check_owner();
    if (moderators_.empty()) return;
    v1::ServerMessage message;
    *message.mutable_moderation_item() = item;
    const std::string& room_id = item.room_id();
    // An author gone after a crisis post is a private notice: for the alert's owner while they
    // are on duty; otherwise for the owner and the moderators on duty for the room, or, when
    // nobody is on duty there, for everyone who moderates it.
    const bool notice = item.kind() == v1::ModerationItem::AUTHOR_LEFT;
    const bool owned = notice && !item.claimed_by_subject().empty();
    const bool owner_only = owned && duty_->covered_by(item.claimed_by(), room_id);
    const bool on_duty_only = notice && !owner_only && duty_->covers(room_id);
    for (LocalSession* moderator : moderators_) {
        if (!moderator->can_moderate(room_id)) continue;
        const bool is_owner = owned && moderator->subject() == item.claimed_by_subject();
        if (owner_only && !is_owner) continue;
        if (on_duty_only && !is_owner &&
            !duty_->covered_by(moderator->member().handle(), room_id)) {
            continue;
        }
        moderator->send(message);
    }
}

void Hub::deliver_private(const v1::PrivateNote& note) {
    check_owner();
    v1::ServerMessage message;
    *message.mutable_private_message() = note.message();
    for (const auto& [id, session] : sessions_) {
        if (session->authenticated() && session->subject() == note.to_subject()) {
            session->send(message);
        }
    }
}

void Hub::go_on_duty(const LocalSession& session, v1::OnDuty duty) {
    check_owner();
    if (!routing_) return;
    server_wide_->duty_board().set(session.id(), session.subject(), std::move(duty));
}

void Hub::go_off_duty(const LocalSession& session) {
    check_owner();
    if (!routing_) return;
    server_wide_->duty_board().clear(session.id());
}

void Hub::set_duty(std::shared_ptr<const moderation::DutySnapshot> duty) {
    check_owner();
    duty_ = std::move(duty);
    if (moderators_.empty()) return;
    v1::ServerMessage message;
    *message.mutable_duty_roster() = duty_->roster;
    for (LocalSession* moderator : moderators_) moderator->send(message);
}

void Hub::sweep(core::SteadyTime now) {
    check_owner();
    std::vector<LocalSession*> late;
    for (const auto& [id, session] : sessions_) {
        if (!session->authenticated() && session->hello_deadline() < now) late.push_back(session);
    }
    // Idle checks may close sockets, which never calls back into the Hub inline.
    for (const auto& [id, session] : sessions_) session->tick(now);
    for (LocalSession* session : late) session->close(protocol::CloseCode::hello_timeout);
}

void Hub::ask_to_reconnect(std::uint32_t spread_ms) {
    check_owner();
    thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<std::uint32_t> delay(0, spread_ms);
    for (const auto& [id, session] : sessions_) {
        v1::ServerMessage message;
        message.mutable_reconnect()->set_after_ms(delay(rng));
        session->send(message);
    }
}

void Hub::close_all(protocol::CloseCode code) {
    std::vector<LocalSession*> all;
    all.reserve(sessions_.size());
    for (const auto& [id, session] : sessions_) all.push_back(session);
    for (LocalSession* session : all) session->close(code);
}

}  // namespace haven::rooms
