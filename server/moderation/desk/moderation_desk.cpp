#include "moderation/desk/moderation_desk.hpp"

#include "moderation/crisis_alert.hpp"

#include "auth/guest_pass.hpp"
#include "core/shard_identity.hpp"
#include "moderation/desk/actor_label.hpp"
#include "moderation/desk/target_role.hpp"
#include "rooms/hub.hpp"
#include "rooms/room_owner.hpp"
#include "rooms/server_wide.hpp"

namespace haven::moderation {

using rooms::LocalSession;
using rooms::ReplyTo;

ModerationDesk::ModerationDesk(rooms::RoomOwner& owner)
    : owner_(owner),
      actor_label_key_(owner.context().guest_passes.derived_key("haven audit actor labels")) {
    owner_.set_moderation(*this);
}

void ModerationDesk::check_owner() const {
    core::check_owner(owner_.shard(), "moderation::ModerationDesk");
}

template <class Task>
void ModerationDesk::on_owner_desk(const std::string& room_id, Task task) {
    ModerationDesk* desk = desks_[owner_.context().directory.owner_shard(room_id)];
    owner_.replies().to_shard(desk->owner_.shard(),
                              [desk, task = std::move(task)](rooms::Hub&) mutable { task(*desk); });
}

// ---- requests, on the session's shard ----------------------------------------------------

void ModerationDesk::flag(const LocalSession& session, std::uint64_t request_id,
                          const v1::Flag& flag) {
    check_owner();
    Actor actor{session.member(), session.subject(), session.can_moderate(flag.room_id())};
    const auto trust_after =
        std::chrono::minutes(owner_.context().config.moderation.flag_trust_minutes);
    actor.trusted_flagger = !is_guest_subject(session.subject()) ||
                            core::steady_now() - session.joined_at(flag.room_id()) >= trust_after;
    const ReplyTo reply{owner_.shard(), session.id(), request_id};
    on_owner_desk(flag.room_id(), [flag, actor = std::move(actor), reply](ModerationDesk& desk) {
        core::spawn(desk.owner_.loop(), desk.flag_flow(flag, actor, reply));
    });
}

void ModerationDesk::moderate(const LocalSession& session, std::uint64_t request_id,
                              const v1::Moderate& moderate) {
    check_owner();
    v1::Member by = session.member();
    by.set_role(session.role_in(moderate.room_id()));
    Actor actor{by, session.subject(), true, session.member().role()};
    const ReplyTo reply{owner_.shard(), session.id(), request_id};
    on_owner_desk(moderate.room_id(),
                  [moderate, actor = std::move(actor), reply](ModerationDesk& desk) {
                      core::spawn(desk.owner_.loop(), desk.moderate_flow(moderate, actor, reply));
                  });
}

void ModerationDesk::audit(const LocalSession& session, std::uint64_t request_id,
                           const v1::AuditRequest& request) {
    check_owner();
    // Subjects are for operators: a moderator who learned one could name its person in
    // actions. Others see a stable label per actor and room.
    const bool show_subjects = session.member().role() >= v1::ROLE_OPERATOR;
    core::spawn(
        owner_.loop(),
        audit_flow(request, ReplyTo{owner_.shard(), session.id(), request_id}, show_subjects));
}

core::Awaitable<void> ModerationDesk::audit_flow(v1::AuditRequest request, ReplyTo reply,
                                                 bool show_subjects) {
    broker::Result<v1::AuditPage> page = co_await owner_.server_wide().read_audit(
        request.room_id(), request.before_id(), request.limit());
    if (!page) co_return owner_.replies().unavailable(reply, "the audit log cannot be read now");
    if (!show_subjects) {
        for (v1::AuditEntry& entry : *page->mutable_entries()) {
            entry.set_actor_subject(
                actor_label(actor_label_key_, entry.room_id(), entry.actor_subject()));
        }
    }
    v1::ServerMessage message;
    *message.mutable_audit() = std::move(*page);
    owner_.replies().message(reply, std::move(message));
}

void ModerationDesk::agreements_accepted(const LocalSession& session, const std::string& room_id,
                                         const std::string& version) {
    check_owner();
    Actor actor;
    actor.member = session.member();
    actor.subject = session.subject();
    record_audit(actor, "agreements_accepted", room_id, "agreements " + version, "");
}

void ModerationDesk::moderation_queue(const LocalSession& session, std::uint64_t request_id) {
    check_owner();
    core::spawn(owner_.loop(), queue_flow(ReplyTo{owner_.shard(), session.id(), request_id}));
}

core::Awaitable<void> ModerationDesk::queue_flow(ReplyTo reply) {
    broker::Result<std::vector<v1::ModerationItem>> items =
        co_await owner_.server_wide().read_queue();
    if (!items) co_return owner_.replies().unavailable(reply, "the queue cannot be read now");
    owner_.replies().to_session(reply, [items = std::move(*items), request = reply.request_id](
                                           rooms::Hub&, LocalSession& session) {
        v1::ServerMessage message;
        message.set_request_id(request);
        message.mutable_moderation_queue();  // present even when empty
        for (const auto& item : items) {
            if (session.can_moderate(item.room_id())) {
                *message.mutable_moderation_queue()->add_items() = item;
            }
        }
        session.send(message);
    });
}

// ---- flags, on the owner shard -----------------------------------------------------------

core::Awaitable<void> ModerationDesk::flag_flow(v1::Flag flag, Actor actor, ReplyTo reply) {
    check_owner();
    const rooms::Replies& replies = owner_.replies();
    broker::Result<std::optional<v1::Event>> post =
        co_await owner_.async_broker().read_event(flag.room_id(), flag.seq());
    if (!post) co_return replies.unavailable(reply, "the flag was not recorded; try again");
    if (!*post || !(*post)->has_posted()) {
        co_return replies.error(reply, v1::NOT_FOUND, "no such post (it may be too old)");
    }
    broker::Result<broker::FlagCount> count = co_await owner_.async_broker().add_flag(
        flag.room_id(), flag.seq(), actor.subject, actor.trusted_flagger);
    if (!count) co_return replies.unavailable(reply, "the flag was not recorded; try again");
    if (count->flaggers == 0) {
        co_return replies.error(reply, v1::ALREADY_FLAGGED, "you have flagged this post already");
    }
    replies.ack(reply, flag.room_id(), flag.seq());

    v1::ModerationItem item;
    item.set_id("flag:" + flag.room_id() + ":" + std::to_string(flag.seq()));
    item.set_kind(v1::ModerationItem::FLAG);
    item.set_urgent(flag.reason() == v1::FLAG_CRISIS);
    item.set_room_id(flag.room_id());
    item.set_seq(flag.seq());
    *item.mutable_post() = (*post)->posted();
    item.set_reason(flag.reason());
    item.set_note(flag.note());
    item.set_flag_count(count->flaggers);
    item.set_time_ms(core::wall_ms());
    send_item(item);
    record_audit(actor, "flag", flag.room_id(), "post " + std::to_string(flag.seq()),
                 v1::FlagReason_Name(flag.reason()));

    // Enough distinct trusted flags hide the post until a moderator looks at it; a throwaway
    // guest's flag reaches the moderators but hides nothing.
    const std::uint32_t threshold = owner_.context().config.moderation.flag_threshold;
    rooms::Room* room = owner_.existing_room(flag.room_id());
    if (threshold == 0 || !actor.trusted_flagger || count->trusted != threshold ||
        room == nullptr || room->moderation.hidden(flag.seq())) {
        co_return;
    }
    auto hidden = std::make_unique<v1::Event>();
    hidden->set_room_id(flag.room_id());
    hidden->mutable_post_hidden()->set_seq(flag.seq());
    hidden->mutable_post_hidden()->set_reason("hidden after " + std::to_string(threshold) +
                                              " flags, waiting for a moderator");
    StateChange change = StateChange::set(hidden_field(flag.seq()), "1");
    co_await publish_moderation(std::move(hidden), std::move(change), ReplyTo{});
    item.set_id("auto:" + flag.room_id() + ":" + std::to_string(flag.seq()));
    item.set_kind(v1::ModerationItem::AUTO_HIDDEN);
    send_item(std::move(item));
    record_audit(Actor{}, "auto_hide", flag.room_id(), "post " + std::to_string(flag.seq()),
                 std::to_string(threshold) + " distinct flags");
}

// ---- the owner's hooks -------------------------------------------------------------------

void ModerationDesk::crisis_seen(const v1::Event& post, const CrisisMatch& match) {
    v1::ModerationItem item;
    // A refused post has no seq: its item gets an id of its own.
    thread_local std::uint64_t refused_count = 0;
    item.set_id("crisis:" + post.room_id() + ":" +
                (post.seq() != 0
                     ? std::to_string(post.seq())
                     : "refused-" + owner_.context().instance_id + "-" +
                           std::to_string(owner_.shard()) + "-" + std::to_string(++refused_count)));
    item.set_kind(v1::ModerationItem::CRISIS);
    item.set_room_id(post.room_id());
    item.set_seq(post.seq());
    *item.mutable_post() = post.posted();
    describe_crisis(match, item);
    if (match.severity == CrisisSeverity::concern) {
        owner_.counters().add(owner_.counters().crisis_concerns);
    }
    item.set_time_ms(post.time_ms() != 0 ? post.time_ms() : core::wall_ms());
    remember_crisis_author(post.room_id(), post.posted().author_subject());
    send_item(std::move(item));
    // The log is kept long after the post has expired: it names the concept and the rule
    // that fired, never the words the person wrote.
    record_audit(Actor{}, "crisis_detected", post.room_id(),
                 post.seq() != 0 ? "post " + std::to_string(post.seq()) : "refused post",
                 match.concept_name + ", " + std::string(severity_name(match.severity)) +
                     " (rule " + match.rule + ")");
}

void ModerationDesk::enforce(rooms::Room& room, const v1::Event& event) {
    check_owner();
    // The person concerned hears the moderator's reason privately; the room does not.
    const auto tell = [this, &room](const std::string& subject, const v1::Alert& alert) {
        for (std::uint64_t session_id : room.sessions_of(subject)) {
            owner_.replies().alert(ReplyTo{room.find(session_id)->shard, session_id, 0}, alert);
        }
    };
    const std::string& room_id = room.config().id;
    if (event.has_member_muted()) {
        v1::Alert alert;
        alert.set_kind(v1::Alert::MUTED);
        alert.set_room_id(room_id);
        alert.set_message(event.member_muted().reason());
        return tell(event.member_muted().subject(), alert);
    }
    if (!event.has_member_removed()) return;
    const v1::MemberRemoved& removed = event.member_removed();
    v1::Alert alert;
    alert.set_kind(v1::Alert::REMOVED);
    alert.set_room_id(room_id);
    alert.set_message(removed.reason());
    tell(removed.subject(), alert);
    for (std::uint64_t session_id : room.sessions_of(removed.subject())) {
        const unsigned home = room.find(session_id)->shard;
        owner_.leave(room_id, session_id, ReplyTo{}, rooms::RoomOwner::LeaveCause::removed);
        owner_.replies().to_shard(
            home, [room_id, session_id, banned = removed.banned()](rooms::Hub& hub) {
                hub.remove_from_room(
                    room_id, session_id,
                    banned ? rooms::Hub::Removal::banned : rooms::Hub::Removal::kicked);
            });
    }
}

namespace {

std::string author_key(const std::string& room_id, const std::string& subject) {
    return room_id + '\n' + subject;
}

}  // namespace

void ModerationDesk::remember_crisis_author(const std::string& room_id,
                                            const std::string& subject) {
    const std::uint64_t now = core::wall_ms();
    const std::uint64_t window_ms = owner_.context().config.safety.followup_minutes * 60'000ULL;
    if (window_ms == 0 || subject.empty()) return;
    // Pruned when it has grown: bounded by the crisis posts of one window.
    if (recent_crisis_authors_.size() >= 1024) {
        std::erase_if(recent_crisis_authors_,
                      [&](const auto& entry) { return entry.second + window_ms < now; });
    }
    recent_crisis_authors_[author_key(room_id, subject)] = now;
}

void ModerationDesk::member_left(const std::string& room_id, const std::string& subject) {
    check_owner();
    const auto found = recent_crisis_authors_.find(author_key(room_id, subject));
    if (found == recent_crisis_authors_.end()) return;  // nobody to follow up: most leaves
    const std::uint64_t window_ms = owner_.context().config.safety.followup_minutes * 60'000ULL;
    if (found->second + window_ms < core::wall_ms()) {
        recent_crisis_authors_.erase(found);
        return;
    }
    owner_.server_wide().watch_departure(room_id, subject);
}

// ---- what moderators and the audit log are told ------------------------------------------

core::Awaitable<void> ModerationDesk::publish_moderation(std::unique_ptr<v1::Event>&& event,
                                                         StateChange&& change, ReplyTo reply) {
    const std::string room_id = event->room_id();
    broker::Result<broker::Published> published =
        co_await owner_.async_broker().publish_with_state(std::move(event), std::move(change));
    if (!published) co_return owner_.replies().unavailable(reply, "not done; try again");
    owner_.replies().ack(reply, room_id, published->seq);
}

void ModerationDesk::send_item(v1::ModerationItem item) {
    owner_.server_wide().publish_item(std::move(item));
}

void ModerationDesk::resolve_items(const std::string& room_id, std::uint64_t seq) {
    for (const char* kind : {"flag:", "auto:", "crisis:"}) {
        v1::ModerationItem resolved;
        resolved.set_id(kind + room_id + ":" + std::to_string(seq));
        resolved.set_kind(v1::ModerationItem::RESOLVED);
        resolved.set_room_id(room_id);
        resolved.set_seq(seq);
        send_item(std::move(resolved));
    }
}

void ModerationDesk::record_audit(const Actor& actor, std::string action,
                                  const std::string& room_id, std::string target,
                                  std::string reason) {
    owner_.counters().count_action(action);
    v1::AuditEntry entry;
    entry.set_time_ms(core::wall_ms());
    entry.set_actor(actor.member.handle().empty() ? "haven" : actor.member.handle());
    entry.set_actor_subject(actor.subject);
    entry.set_action(std::move(action));
    entry.set_room_id(room_id);
    entry.set_target(std::move(target));
    entry.set_reason(std::move(reason));
    owner_.server_wide().append_audit(std::move(entry));
}

}  // namespace haven::moderation
