// Held posts, on the room's owner shard: a post the screening held waits in the room's state
// for a moderator, who releases it (it is published under its author's own client message
// id, so a retry or a second release delivers it once) or rejects it. Unanswered for
// moderation.hold_timeout_seconds, the room's held_unanswered decides instead. Whoever
// decides takes the post out of the room's state first, in one atomic step, so exactly one
// decision is made on every instance; its author is told which.
#include <random>

#include "auth/hs256.hpp"
#include "moderation/crisis_alert.hpp"
#include "moderation/desk/moderation_desk.hpp"
#include "rooms/room_owner.hpp"
#include "rooms/server_wide.hpp"

namespace haven::moderation {

using rooms::ReplyTo;

namespace {

constexpr std::string_view kNotStored = "the message was not stored; send it again";

std::string hex(const unsigned char* bytes, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 15]);
    }
    return out;
}

// The same id for the same input on every instance: a retried post is held once.
std::string stable_id(std::string_view input) {
    const auto mac = auth::hmac_sha256("haven-hold-id", input);
    if (!mac) return {};
    return hex(reinterpret_cast<const unsigned char*>(mac->data()), 8);
}

std::string random_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::uint64_t value = rng();
    unsigned char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
    return hex(bytes, sizeof bytes);
}

}  // namespace

void ModerationDesk::hold_post(std::unique_ptr<v1::Event> post, std::string dedupe_key,
                               std::optional<CrisisMatch> crisis, ReplyTo reply) {
    core::spawn(owner_.loop(),
                hold_flow(std::move(post), std::move(dedupe_key), std::move(crisis), reply));
}

core::Awaitable<void> ModerationDesk::hold_flow(std::unique_ptr<v1::Event> post,
                                                std::string dedupe_key,
                                                std::optional<CrisisMatch> crisis, ReplyTo reply) {
    check_owner();
    const rooms::Replies& replies = owner_.replies();
    if (!dedupe_key.empty()) {
        const std::string room_id = post->room_id();
        broker::Result<std::uint64_t> seq =
            co_await owner_.async_broker().find_duplicate(room_id, dedupe_key);
        if (!seq) co_return replies.unavailable(reply, std::string(kNotStored));
        if (*seq != 0) {
            // A retry of a post that was held and has since been released.
            v1::Ack ack;
            ack.set_room_id(room_id);
            ack.set_seq(*seq);
            ack.set_client_msg_id(post->posted().client_msg_id());
            ack.set_duplicate(true);
            co_return replies.ack(reply, std::move(ack));
        }
        const std::string hold_id = stable_id(dedupe_key);
        broker::Result<StateFields> fields = co_await owner_.async_broker().read_state(room_id);
        if (!fields) co_return replies.unavailable(reply, std::string(kNotStored));
        if (fields->count(held_field(hold_id)) != 0) {
            // Held already (a retry while it waits): acknowledge the same hold again.
            v1::Ack ack;
            ack.set_room_id(room_id);
            ack.set_client_msg_id(post->posted().client_msg_id());
            ack.set_hold_id(hold_id);
            ack.set_duplicate(true);
            co_return replies.ack(reply, std::move(ack));
        }
    }
    co_await store_held(std::move(post), std::move(dedupe_key), std::move(crisis), reply);
}

core::Awaitable<void> ModerationDesk::store_held(std::unique_ptr<v1::Event>&& post,
                                                 std::string&& dedupe_key,
                                                 std::optional<CrisisMatch>&& crisis,
                                                 ReplyTo reply) {
    const rooms::Replies& replies = owner_.replies();
    v1::HeldPost held;
    held.set_hold_id(dedupe_key.empty() ? random_id() : stable_id(dedupe_key));
    held.set_room_id(post->room_id());
    *held.mutable_post() = post->posted();
    held.set_dedupe_key(std::move(dedupe_key));
    held.set_time_ms(core::wall_ms());
    StateChange change = StateChange::set(held_field(held.hold_id()), held.SerializeAsString());
    broker::Result<void> stored =
        co_await owner_.async_broker().update_state(held.room_id(), std::move(change));
    if (!stored) co_return replies.unavailable(reply, std::string(kNotStored));

    // Tasks posted to one shard run in order: resources, then the notice, then the Ack.
    if (crisis) {
        replies.alert(reply, crisis_alert(*owner_.context().crisis, held.room_id(), *crisis,
                                          owner_.human_side(held.room_id())));
    }
    v1::Alert notice;
    notice.set_kind(v1::Alert::POST_HELD);
    notice.set_room_id(held.room_id());
    notice.set_hold_id(held.hold_id());
    // Honest about when: a promise of "soon" with nobody on duty would not be kept.
    notice.set_message(owner_.moderator_on_duty(held.room_id())
                           ? "Your post is waiting for a moderator, who will look at it soon."
                           : "Your post is waiting for a moderator. None is on duty right now, "
                             "so it may take a while.");
    replies.alert(reply, std::move(notice));
    v1::Ack ack;
    ack.set_room_id(held.room_id());
    ack.set_client_msg_id(held.post().client_msg_id());
    ack.set_hold_id(held.hold_id());
    replies.ack(reply, std::move(ack));

    v1::ModerationItem item;
    item.set_id("held:" + held.hold_id());
    item.set_kind(v1::ModerationItem::HELD_POST);
    item.set_room_id(held.room_id());
    item.set_hold_id(held.hold_id());
    *item.mutable_post() = held.post();
    if (crisis) describe_crisis(*crisis, item);
    item.set_time_ms(held.time_ms());
    send_item(std::move(item));
    record_audit(Actor{}, "hold_post", held.room_id(), "held " + held.hold_id(),
                 crisis ? "crisis language" : "");
}

core::Awaitable<void> ModerationDesk::moderate_held(const v1::Moderate& m, const Actor& actor,
                                                    ReplyTo reply) {
    const rooms::Replies& replies = owner_.replies();
    broker::Result<StateFields> fields = co_await owner_.async_broker().read_state(m.room_id());
    if (!fields) co_return replies.unavailable(reply, "try again in a moment");
    auto found = fields->find(held_field(m.hold_id()));
    v1::HeldPost held;
    if (found == fields->end() || !held.ParseFromString(found->second)) {
        co_return replies.error(reply, v1::NOT_FOUND,
                                "no such held post (it may have been handled)");
    }
    // The author is the person this acts on.
    v1::PresenceRecord author;
    *author.mutable_member() = held.post().author();
    author.set_subject(held.post().author_subject());
    if (!co_await outranks(m, actor, author, reply)) co_return;

    // Ours to decide only if nobody else has meanwhile (another moderator, the timeout).
    broker::Result<std::optional<std::string>> taken =
        co_await owner_.async_broker().take_state_field(m.room_id(), held_field(m.hold_id()));
    if (!taken) co_return replies.unavailable(reply, "try again in a moment");
    if (!*taken) {
        co_return replies.error(reply, v1::NOT_FOUND, "this held post was answered meanwhile");
    }
    resolve_held(m.room_id(), m.hold_id());
    const std::string target = "held " + m.hold_id();
    if (m.action() == v1::REJECT_POST) {
        tell_author(held, v1::Alert::POST_REJECTED,
                    "A moderator decided not to share your post. You can still reach out to the "
                    "people and lines listed in the support resources.");
        record_audit(actor, "reject_post", m.room_id(), target, m.reason());
        co_return replies.ack(reply, m.room_id(), 0);
    }
    record_audit(actor, "release_post", m.room_id(), target, m.reason());
    broker::Result<broker::Published> published = co_await deliver_held(held);
    if (!published) co_return replies.unavailable(reply, "not done; try again");
    tell_author(held, v1::Alert::POST_RELEASED, "A moderator shared your post with the room.");
    replies.ack(reply, m.room_id(), published->seq);
}

void ModerationDesk::expire_held(const std::string& room_id, const std::string& hold_id) {
    check_owner();
    core::spawn(owner_.loop(), expire_held_flow(room_id, hold_id));
}

core::Awaitable<void> ModerationDesk::expire_held_flow(std::string room_id, std::string hold_id) {
    check_owner();
    broker::Result<std::optional<std::string>> taken =
        co_await owner_.async_broker().take_state_field(room_id, held_field(hold_id));
    if (!taken) co_return;  // the broker is away: shard 0 asks again later
    v1::HeldPost held;
    if (!*taken || !held.ParseFromString(**taken)) {
        // Answered already, here or elsewhere: only the queue may still show it.
        co_return resolve_held(room_id, hold_id);
    }
    const rooms::RoomRef room = owner_.context().directory.find(room_id);
    const bool deliver = room && room->held_unanswered == config::HeldUnanswered::deliver;
    const std::uint64_t waited_s =
        (core::wall_ms() - std::min(core::wall_ms(), held.time_ms())) / 1000;
    if (deliver) {
        broker::Result<broker::Published> published = co_await deliver_held(held);
        if (!published) {
            // Put back, so the next try (or a moderator) finds it.
            StateChange back = StateChange::set(held_field(hold_id), held.SerializeAsString());
            broker::Result<void> restored =
                co_await owner_.async_broker().update_state(room_id, std::move(back));
            (void)restored;  // lost only if the broker is away again: its item then closes
            co_return;
        }
        tell_author(held, v1::Alert::POST_RELEASED,
                    "No moderator could look at your post in time, so it has been shared with "
                    "the room as this room does.");
    } else {
        tell_author(held, v1::Alert::POST_REJECTED,
                    "No moderator could look at your post in time, so it was not shared. The "
                    "people and lines in the support resources are there for you now.");
    }
    resolve_held(room_id, hold_id);
    record_audit(Actor{}, "hold_expired", room_id, "held " + hold_id,
                 std::string(deliver ? "delivered" : "rejected") + " after " +
                     std::to_string(waited_s) + " s unanswered");
}

void ModerationDesk::resolve_held(const std::string& room_id, const std::string& hold_id) {
    v1::ModerationItem resolved;
    resolved.set_id("held:" + hold_id);
    resolved.set_kind(v1::ModerationItem::RESOLVED);
    resolved.set_room_id(room_id);
    send_item(std::move(resolved));
}

core::Awaitable<broker::Result<broker::Published>> ModerationDesk::deliver_held(
    const v1::HeldPost& held) {
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(held.room_id());
    *event->mutable_posted() = held.post();
    event->mutable_posted()->set_released(true);
    // Published under the author's own client message id, so a later retry of the post is
    // recognised, and delivering twice delivers once.
    std::string dedupe_key = held.dedupe_key();
    broker::AuthorLimit no_limit;
    co_return co_await owner_.async_broker().publish(std::move(event), std::move(dedupe_key),
                                                     std::move(no_limit));
}

void ModerationDesk::tell_author(const v1::HeldPost& held, v1::Alert::Kind kind,
                                 std::string message) {
    // The author's member id names their session: "<instance>-<session id in hex>". A
    // session on another instance is not reached (it sees the post stay held).
    const std::string& member_id = held.post().author().member_id();
    const std::string prefix = owner_.context().instance_id + "-";
    if (member_id.rfind(prefix, 0) != 0) return;
    std::uint64_t session_id = 0;
    try {
        session_id = std::stoull(member_id.substr(prefix.size()), nullptr, 16);
    } catch (const std::exception&) {
        return;
    }
    const auto shard = static_cast<unsigned>(session_id >> 48);
    if (shard >= desks_.size()) return;
    v1::Alert alert;
    alert.set_kind(kind);
    alert.set_room_id(held.room_id());
    alert.set_hold_id(held.hold_id());
    alert.set_message(std::move(message));
    owner_.replies().alert(ReplyTo{shard, session_id, 0}, alert);
}

}  // namespace haven::moderation
