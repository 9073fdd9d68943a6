// A post on the room's owner shard, top to bottom: the author is a member, the room's
// moderation state is known, moderation::screen_post gives its verdict, and the post is
// refused (still acknowledged when it is a retry of one stored before), held for a moderator
// (the moderation module) or published and acknowledged, crisis resources first.
#include "meetings/meeting_gate.hpp"
#include "moderation/crisis_alert.hpp"
#include "moderation/post_screening.hpp"
#include "rooms/room_owner.hpp"

namespace haven::rooms {
namespace {

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
        case v1::MEETING_CLOSED:
            return "this meeting is not open for posts now: you can post once its doors open "
                   "(the room list shows when), or once its facilitator is back";
        case v1::FLOOR_HELD:
            return "someone has the floor: raise your hand to share, or wait for open discussion";
        default:
            return "you can't post right now";
    }
}

constexpr std::string_view kNotStored = "the message was not stored; send it again";

}  // namespace

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

    if (!moderation_known(*state)) {
        const bool loaded = co_await load_moderation(*state);
        if (!loaded) co_return replies_.unavailable(reply, std::string(kNotStored));
    }
    author = state->find(reply.session_id);  // the author may have gone while it loaded
    if (author == nullptr) co_return replies_.error(reply, v1::NOT_JOINED, "join the room first");
    *posted->mutable_author() = author->member;
    posted->set_author_subject(author->subject);

    const moderation::PostAuthor who{author->subject, author->member.role(),
                                     globally_banned(author->subject)};
    const std::uint64_t now = core::wall_ms();
    moderation::ScreeningRules rules{context_.config.moderation.redact_contact_details,
                                     crisis_line_numbers_, context_.crisis,
                                     state->config().crisis_policy};
    if (state->config().kind == config::RoomKind::meeting) {
        const meetings::MeetingPoster poster{who.role, author->subject, author->member.member_id()};
        const meetings::MeetingSchedule* schedule =
            state->schedule() ? &*state->schedule() : nullptr;
        if (auto refused = meetings::meeting_refuses_post(schedule, state->meeting, poster, now)) {
            rules.closed = moderation::Restriction{refused->code, refused->retry_after_ms};
        }
    }
    moderation::ScreeningVerdict verdict =
        moderation::screen_post(posted->text(), who, state->moderation, rules, now);
    if (verdict.redacted_text) {
        posted->set_text(std::move(*verdict.redacted_text));
        posted->set_redacted(true);
    }
    using Outcome = moderation::ScreeningVerdict::Outcome;
    if (verdict.outcome == Outcome::refuse) {
        if (verdict.crisis) {
            replies_.alert(
                reply, moderation::crisis_alert(*context_.crisis, event->room_id(), *verdict.crisis,
                                                human_side(event->room_id())));
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
        replies_.alert(reply, moderation::crisis_alert(*context_.crisis, room_id, *crisis,
                                                       human_side(room_id)));
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

}  // namespace haven::rooms
