// Reach out: the moderator who owns an open alert writes privately to the person whose post
// raised it, and that person answers. On the session's shard: who may write is settled with
// shard 0 (the open queue, the conversations), and the message goes out as a server-wide note
// that only its addressee's sessions receive, on every instance. What is written is never
// stored; who may answer whom is, for check_in_hours, so that any instance can tell.
// Part of ModerationDesk.
#include "moderation/desk/moderation_desk.hpp"
#include "rooms/room_owner.hpp"
#include "rooms/server_wide.hpp"

namespace haven::moderation {

using rooms::LocalSession;
using rooms::ReplyTo;

namespace {

// A private message on its way to `to_subject`, as the server-wide event that carries it.
broker::EventPtr private_note(v1::PrivateMessage message, std::string to_subject,
                              std::string from_subject) {
    auto event = std::make_shared<v1::Event>();
    event->set_time_ms(message.time_ms());
    v1::PrivateNote& note = *event->mutable_private_note();
    *note.mutable_message() = std::move(message);
    note.set_to_subject(std::move(to_subject));
    note.set_from_subject(std::move(from_subject));
    return event;
}

}  // namespace

void ModerationDesk::check_in(const LocalSession& session, std::uint64_t request_id,
                              const v1::CheckIn& check_in) {
    check_owner();
    Writer writer{session.member(), session.subject(), session.room_roles()};
    core::spawn(owner_.loop(), check_in_flow(check_in, std::move(writer),
                                             ReplyTo{owner_.shard(), session.id(), request_id}));
}

core::Awaitable<void> ModerationDesk::check_in_flow(v1::CheckIn check_in, Writer writer,
                                                    ReplyTo reply) {
    const rooms::Replies& replies = owner_.replies();
    std::optional<OpenQueue::AboutWhom> about =
        co_await owner_.server_wide().about_whom(check_in.item_id());
    if (!about) {
        co_return replies.error(reply, v1::NOT_FOUND,
                                "no open alert or held post has this id (it may be closed)");
    }
    if (writer.role_in(about->room_id) < v1::ROLE_MODERATOR) {
        co_return replies.error(reply, v1::FORBIDDEN, "you do not moderate this room");
    }
    // One person reaches out: the alert's owner.
    if (about->claimed_by_subject.empty()) {
        co_return replies.error(reply, v1::FORBIDDEN, "claim the alert first, then reach out");
    }
    if (about->claimed_by_subject != writer.subject) {
        co_return replies.error(reply, v1::ALREADY_CLAIMED,
                                about->claimed_by + " owns this alert and reaches out");
    }
    v1::PrivateMessage message;
    message.set_thread_id(check_in.item_id());
    message.set_room_id(about->room_id);
    *message.mutable_from() = writer.member;
    message.mutable_from()->set_role(writer.role_in(about->room_id));
    message.set_text(check_in.text());
    message.set_time_ms(core::wall_ms());
    message.set_from_moderator(true);
    // Named, not temporaries: see broker/async_broker.hpp.
    broker::EventPtr note = private_note(std::move(message), about->author_subject, writer.subject);
    StateChange no_change;
    broker::Result<void> sent =
        co_await owner_.server_wide().publish_global(std::move(note), std::move(no_change));
    if (!sent) co_return replies.unavailable(reply, "not sent; try again");
    owner_.server_wide().remember_check_in(
        check_in.item_id(), {about->room_id, about->author_subject, writer.subject, 0});
    Actor actor;
    actor.member = writer.member;
    actor.subject = writer.subject;
    // The log says that someone reached out, never what was written.
    record_audit(actor, "check_in", about->room_id, "item " + check_in.item_id(), "");
    replies.ack(reply, about->room_id, 0);
}

void ModerationDesk::check_in_reply(const LocalSession& session, std::uint64_t request_id,
                                    const v1::CheckInReply& answer) {
    check_owner();
    core::spawn(owner_.loop(),
                check_in_reply_flow(answer, session.member(), session.subject(),
                                    ReplyTo{owner_.shard(), session.id(), request_id}));
}

core::Awaitable<void> ModerationDesk::check_in_reply_flow(v1::CheckInReply answer,
                                                          v1::Member member, std::string subject,
                                                          ReplyTo reply) {
    const rooms::Replies& replies = owner_.replies();
    std::optional<CheckInThread> thread =
        co_await owner_.server_wide().check_in_thread(answer.thread_id());
    // Somebody else's conversation looks the same as none: nothing about it is revealed.
    if (!thread || thread->author_subject != subject) {
        co_return replies.error(reply, v1::NOT_FOUND,
                                "this conversation has ended; the support resources are there "
                                "for you, and the moderators can be reached in the room");
    }
    v1::PrivateMessage message;
    message.set_thread_id(answer.thread_id());
    message.set_room_id(thread->room_id);
    *message.mutable_from() = std::move(member);
    message.set_text(answer.text());
    message.set_time_ms(core::wall_ms());
    broker::EventPtr note = private_note(std::move(message), thread->moderator_subject, subject);
    StateChange no_change;
    broker::Result<void> sent =
        co_await owner_.server_wide().publish_global(std::move(note), std::move(no_change));
    if (!sent) co_return replies.unavailable(reply, "not sent; try again");
    replies.ack(reply, thread->room_id, 0);
    owner_.server_wide().remember_check_in(answer.thread_id(), std::move(*thread));
}

v1::Role ModerationDesk::Writer::role_in(const std::string& room_id) const {
    v1::Role role = member.role();
    for (const auto& [granted_room, granted] : room_roles) {
        if (granted_room == room_id) role = std::max(role, granted);
    }
    return role;
}

}  // namespace haven::moderation
