// The Hub's moderation work: screening posts (bans, mutes, lock, slow mode, contact-detail
// redaction, crisis language), flags, moderator actions and their enforcement on every
// instance, the moderation queue and the audit log. Same threading rules as hub.cpp: owner
// side on the room's owner shard, server-wide work on shard 0.
#include <random>

#include "auth/hs256.hpp"
#include "moderation/actor_label.hpp"
#include "moderation/post_screening.hpp"
#include "moderation/redactor.hpp"
#include "rooms/hub.hpp"
#include "session/client_session.hpp"

namespace haven::rooms {

using session::ClientSession;
using StateChange = moderation::StateChange;

namespace {

constexpr std::string_view kCrisisMessage =
    "It sounds like you might be going through something really hard. You deserve support "
    "right now, and you don't have to face this alone. These services are free and "
    "confidential:";

// The same id for the same input on every instance.
std::string stable_id(std::string_view input) {
    const auto mac = auth::hmac_sha256("haven-hold-id", input);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < 8 && mac; ++i) {
        const auto byte = static_cast<unsigned char>((*mac)[i]);
        out.push_back(kDigits[byte >> 4]);
        out.push_back(kDigits[byte & 15]);
    }
    return out;
}

std::string random_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    std::uint64_t value = rng();
    for (int i = 0; i < 16; ++i, value >>= 4) out.push_back(kDigits[value & 15]);
    return out;
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

}  // namespace

// ---- local side ---------------------------------------------------------------------------

void Hub::add_moderator(ClientSession& session) {
    moderators_.push_back(&session);
}

bool Hub::globally_banned(const std::string& subject) const {
    return global_bans_.banned_until(subject, core::wall_ms()).has_value();
}

void Hub::flag(ClientSession& session, std::uint64_t request_id, const v1::Flag& flag) {
    check_owner();
    Actor actor{session.member(), session.subject(), session.can_moderate(flag.room_id())};
    ReplyTo reply{shard_, session.id(), request_id};
    on_owner(flag.room_id(),
             [flag, actor, reply](Hub& owner) { owner.owner_flag(flag, actor, reply); });
}

void Hub::moderate(ClientSession& session, std::uint64_t request_id, const v1::Moderate& moderate) {
    check_owner();
    v1::Member by = session.member();
    by.set_role(session.role_in(moderate.room_id()));
    Actor actor{by, session.subject(), true, session.member().role()};
    ReplyTo reply{shard_, session.id(), request_id};
    on_owner(moderate.room_id(), [moderate, actor, reply](Hub& owner) {
        owner.owner_moderate(moderate, actor, reply);
    });
}

void Hub::audit(ClientSession& asker, std::uint64_t request_id, const v1::AuditRequest& request) {
    check_owner();
    ReplyTo reply{shard_, asker.id(), request_id};
    Hub* zero = hubs_[0];
    router_.post(0, [zero, request, reply] {
        zero->broker_->read_audit(
            request.room_id(), request.before_id(), request.limit(),
            [zero, reply](std::optional<v1::AuditPage> page) {
                if (!page)
                    return zero->reply_error(reply, v1::UNAVAILABLE,
                                             "the audit log cannot be read now", 1000);
                zero->on_session(reply, [page = std::move(*page), request = reply.request_id](
                                            Hub& home, ClientSession* session) mutable {
                    if (!session) return;
                    // Subjects are for operators: a moderator who learned one could name its
                    // person in actions. Others see a stable label per actor and room.
                    if (session->member().role() < v1::ROLE_OPERATOR) {
                        for (v1::AuditEntry& entry : *page.mutable_entries()) {
                            entry.set_actor_subject(moderation::actor_label(
                                home.actor_label_key_, entry.room_id(), entry.actor_subject()));
                        }
                    }
                    v1::ServerMessage message;
                    message.set_request_id(request);
                    *message.mutable_audit() = page;
                    session->send(message);
                });
            });
    });
}

void Hub::moderation_queue(ClientSession& asker, std::uint64_t request_id) {
    check_owner();
    ReplyTo reply{shard_, asker.id(), request_id};
    Hub* zero = hubs_[0];
    router_.post(0, [zero, reply] {
        zero->broker_->read_moderation_queue(
            [zero, reply](std::optional<std::vector<v1::ModerationItem>> items) {
                if (!items)
                    return zero->reply_error(reply, v1::UNAVAILABLE, "the queue cannot be read now",
                                             1000);
                zero->on_session(reply, [items = std::move(*items), request = reply.request_id](
                                            Hub&, ClientSession* session) {
                    if (!session) return;
                    v1::ServerMessage message;
                    message.set_request_id(request);
                    for (const auto& item : items) {
                        if (session->can_moderate(item.room_id())) {
                            *message.mutable_moderation_queue()->add_items() = item;
                        }
                    }
                    message.mutable_moderation_queue();  // present even when empty
                    session->send(message);
                });
            });
    });
}

void Hub::deliver_item(const v1::ModerationItem& item) {
    if (moderators_.empty()) return;
    v1::ServerMessage message;
    *message.mutable_moderation_item() = item;
    for (ClientSession* moderator : moderators_) {
        if (moderator->can_moderate(item.room_id())) moderator->send(message);
    }
}

void Hub::apply_global(const v1::Event& event) {
    global_bans_.apply(event);
    if (!event.has_member_removed() || !event.member_removed().banned()) return;
    std::vector<ClientSession*> banned;
    for (const auto& [id, session] : sessions_) {
        if (session->subject() == event.member_removed().subject()) banned.push_back(session);
    }
    for (ClientSession* session : banned) session->close(protocol::CloseCode::banned);
}

void Hub::load_global_state() {
    broker_->read_global_state([this](std::optional<moderation::StateFields> fields) {
        if (!fields) {
            // The broker is not reachable yet: try again shortly.
            router_.post(shard_, [this] { load_global_state(); });
            return;
        }
        for (Hub* hub : hubs_) {
            router_.post(hub->shard_, [hub, fields = *fields] { hub->global_bans_.load(fields); });
        }
    });
}

// ---- sink: server-wide, on shard 0 --------------------------------------------------------

void Hub::on_global_event(const broker::EventPtr& event) {
    check_owner();
    for (Hub* hub : hubs_) {
        if (!routing_) return;
        router_.post(hub->shard_, [hub, event] { hub->apply_global(*event); });
    }
}

void Hub::on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item) {
    check_owner();
    for (Hub* hub : hubs_) {
        if (!routing_) return;
        router_.post(hub->shard_, [hub, item] { hub->deliver_item(*item); });
    }
}

// ---- owner side -----------------------------------------------------------------------------

void Hub::with_moderation(Room& room, std::function<void(bool loaded)> then) {
    // The cache follows the room's events only while this instance is subscribed, that is
    // while it has members here; otherwise the broker's copy is the truth.
    if (room.moderation_loaded && !room.empty()) return then(true);
    const std::string room_id = room.config().id;
    broker_->read_state(room_id, [this, room_id, then = std::move(then)](
                                     std::optional<moderation::StateFields> fields) {
        Room* state = existing_room(room_id);
        if (!fields || state == nullptr) return then(false);
        state->moderation.load(*fields);
        state->moderation_loaded = true;
        then(true);
    });
}

void Hub::screen_and_publish(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                             std::uint64_t session_id, ReplyTo reply) {
    Room* room = existing_room(event->room_id());
    if (room == nullptr) return reply_error(reply, v1::NOT_JOINED, "join the room first");
    auto shared_event = std::make_shared<v1::Event>(std::move(*event));
    with_moderation(*room, [this, shared_event, dedupe_key = std::move(dedupe_key), session_id,
                            reply](bool loaded) mutable {
        if (!loaded) {
            return reply_error(reply, v1::UNAVAILABLE, "the message was not stored; send it again",
                               1000);
        }
        Room* state = existing_room(shared_event->room_id());
        const MemberRecord* author = state ? state->find(session_id) : nullptr;
        if (author == nullptr) return reply_error(reply, v1::NOT_JOINED, "join the room first");
        const moderation::PostAuthor who{author->subject, author->member.role(),
                                         globally_banned(author->subject)};
        const moderation::ScreeningRules rules{context_.config.moderation.redact_contact_details,
                                               crisis_line_numbers_, context_.crisis,
                                               state->config().crisis_policy};
        const std::uint64_t now = core::wall_ms();
        v1::Posted* posted = shared_event->mutable_posted();
        moderation::ScreeningVerdict verdict =
            moderation::screen_post(posted->text(), who, state->moderation, rules, now);
        if (verdict.redacted_text) {
            posted->set_text(std::move(*verdict.redacted_text));
            posted->set_redacted(true);
        }
        using Outcome = moderation::ScreeningVerdict::Outcome;
        if (verdict.outcome == Outcome::refuse) {
            if (verdict.crisis) {
                send_alert(reply, crisis_alert(shared_event->room_id(), *verdict.crisis));
                report_crisis(*shared_event, *verdict.crisis);
            }
            return refuse_post(shared_event->room_id(), dedupe_key,
                               {verdict.restriction.code, verdict.restriction.retry_after_ms},
                               reply);
        }
        state->moderation.note_post(author->subject, now);
        auto owned = std::make_unique<v1::Event>(std::move(*shared_event));
        if (verdict.outcome == Outcome::hold) {
            return hold_post(std::move(owned), std::move(dedupe_key), std::move(verdict.crisis),
                             reply);
        }
        publish_post(std::move(owned), std::move(dedupe_key), reply, std::move(verdict.crisis));
    });
}

void Hub::refuse_post(const std::string& room_id, const std::string& dedupe_key,
                      std::pair<v1::ErrorCode, std::uint32_t> restriction, ReplyTo reply) {
    const auto refuse = [this, restriction, reply] {
        reply_error(reply, restriction.first, restriction_message(restriction.first),
                    restriction.second);
    };
    if (dedupe_key.empty()) return refuse();
    // A retry of something stored before the restriction began is still acknowledged.
    broker_->find_duplicate(room_id, dedupe_key,
                            [this, room_id, reply, refuse,
                             client_msg_id = dedupe_key.substr(dedupe_key.find('\n') + 1)](
                                std::optional<std::uint64_t> seq) {
                                if (!seq || *seq == 0) return refuse();
                                v1::Ack ack;
                                ack.set_room_id(room_id);
                                ack.set_seq(*seq);
                                ack.set_client_msg_id(client_msg_id);
                                ack.set_duplicate(true);
                                reply_ack(reply, std::move(ack));
                            });
}

void Hub::send_alert(const ReplyTo& reply, v1::Alert alert) {
    on_session(reply, [alert = std::move(alert)](Hub&, ClientSession* session) {
        if (!session) return;
        v1::ServerMessage message;
        *message.mutable_alert() = alert;
        session->send(message);
    });
}

void Hub::hold_post(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                    std::optional<moderation::CrisisMatch> crisis, ReplyTo reply) {
    if (!dedupe_key.empty()) {
        // A retry of a post that was held and has since been released is acknowledged.
        std::string room_id = event->room_id();
        auto shared = std::make_shared<v1::Event>(std::move(*event));
        return broker_->find_duplicate(
            room_id, dedupe_key,
            [this, shared, dedupe_key, crisis, reply, room_id](std::optional<std::uint64_t> seq) {
                if (!seq)
                    return reply_error(reply, v1::UNAVAILABLE,
                                       "the message was not stored; send it again", 1000);
                if (*seq != 0) {
                    return refuse_post(room_id, dedupe_key, {v1::ERROR_UNSPECIFIED, 0}, reply);
                }
                // Held already (a retry while it waits): acknowledge the same hold again.
                const std::string hold_id = stable_id(dedupe_key);
                broker_->read_state(
                    room_id, [this, shared, dedupe_key, crisis, reply, room_id,
                              hold_id](std::optional<moderation::StateFields> fields) {
                        if (!fields)
                            return reply_error(reply, v1::UNAVAILABLE,
                                               "the message was not stored; send it again", 1000);
                        if (fields->count(moderation::held_field(hold_id)) == 0) {
                            return store_held(std::make_unique<v1::Event>(std::move(*shared)),
                                              dedupe_key, crisis, reply);
                        }
                        v1::Ack ack;
                        ack.set_room_id(room_id);
                        ack.set_client_msg_id(shared->posted().client_msg_id());
                        ack.set_hold_id(hold_id);
                        ack.set_duplicate(true);
                        reply_ack(reply, std::move(ack));
                    });
            });
    }
    store_held(std::move(event), std::move(dedupe_key), std::move(crisis), reply);
}

void Hub::store_held(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                     std::optional<moderation::CrisisMatch> crisis, ReplyTo reply) {
    v1::HeldPost held;
    // A retried post maps to the same hold id, so it is held (and listed) once.
    held.set_hold_id(dedupe_key.empty() ? random_id() : stable_id(dedupe_key));
    held.set_room_id(event->room_id());
    *held.mutable_post() = event->posted();
    held.set_dedupe_key(std::move(dedupe_key));
    held.set_time_ms(core::wall_ms());
    broker_->update_state(
        held.room_id(),
        StateChange::set(moderation::held_field(held.hold_id()), held.SerializeAsString()),
        [this, held, crisis, reply](bool ok) {
            if (!ok)
                return reply_error(reply, v1::UNAVAILABLE,
                                   "the message was not stored; send it again", 1000);
            std::optional<v1::Alert> resources;
            if (crisis) resources = crisis_alert(held.room_id(), *crisis);
            // Tasks posted to one shard run in order: resources, then the notice, then the Ack.
            if (resources) send_alert(reply, *resources);
            v1::Alert notice;
            notice.set_kind(v1::Alert::POST_HELD);
            notice.set_room_id(held.room_id());
            notice.set_message("Your post is waiting for a moderator, who will look at it soon.");
            send_alert(reply, std::move(notice));
            v1::Ack ack;
            ack.set_room_id(held.room_id());
            ack.set_client_msg_id(held.post().client_msg_id());
            ack.set_hold_id(held.hold_id());
            reply_ack(reply, std::move(ack));
            v1::ModerationItem item;
            item.set_id("held:" + held.hold_id());
            item.set_kind(v1::ModerationItem::HELD_POST);
            item.set_urgent(crisis.has_value());
            item.set_room_id(held.room_id());
            item.set_hold_id(held.hold_id());
            *item.mutable_post() = held.post();
            if (crisis) item.set_matched(crisis->phrase);
            item.set_time_ms(held.time_ms());
            send_item(std::move(item));
            record_audit(Actor{}, "hold_post", held.room_id(), "held " + held.hold_id(),
                         crisis ? "crisis language" : "");
        });
}

v1::Alert Hub::crisis_alert(const std::string& room_id,
                            const moderation::CrisisMatch& match) const {
    v1::Alert alert;
    alert.set_kind(v1::Alert::CRISIS_RESOURCES);
    alert.set_room_id(room_id);
    alert.set_locale(match.locale);
    alert.set_message(std::string(kCrisisMessage));
    for (const auto& resource : context_.crisis->resources(match.locale)) {
        v1::CrisisResource* out = alert.add_resources();
        out->set_name(resource.name);
        out->set_phone(resource.phone);
        out->set_text(resource.text);
        out->set_url(resource.url);
        out->set_hours(resource.hours);
    }
    return alert;
}

void Hub::report_crisis(const v1::Event& event, const moderation::CrisisMatch& match) {
    v1::ModerationItem item;
    // A refused post has no seq: its item gets an id of its own.
    item.set_id("crisis:" + event.room_id() + ":" +
                (event.seq() != 0 ? std::to_string(event.seq()) : "refused-" + random_id()));
    item.set_kind(v1::ModerationItem::CRISIS);
    item.set_urgent(true);
    item.set_room_id(event.room_id());
    item.set_seq(event.seq());
    *item.mutable_post() = event.posted();
    item.set_matched(match.phrase);
    item.set_time_ms(event.time_ms() != 0 ? event.time_ms() : core::wall_ms());
    send_item(std::move(item));
    record_audit(Actor{}, "crisis_detected", event.room_id(),
                 event.seq() != 0 ? "post " + std::to_string(event.seq()) : "refused post",
                 "matched \"" + match.phrase + "\" (" + match.locale + ")");
}

void Hub::read_post(const std::string& room_id, std::uint64_t seq,
                    std::function<void(std::optional<v1::Event>, bool ok)> done) {
    broker::HistoryQuery query;
    query.room_id = room_id;
    query.after_seq = seq - 1;
    query.limit = 1;
    query.newest = false;
    broker_->read_history(query, [seq, done = std::move(done)](broker::HistorySlice slice) {
        if (!slice.ok) return done(std::nullopt, false);
        if (slice.events.empty() || slice.events[0]->seq() != seq) return done(std::nullopt, true);
        done(*slice.events[0], true);
    });
}

void Hub::owner_flag(v1::Flag flag, Actor actor, ReplyTo reply) {
    check_owner();
    read_post(
        flag.room_id(), flag.seq(),
        [this, flag, actor, reply](std::optional<v1::Event> post, bool ok) {
            if (!ok)
                return reply_error(reply, v1::UNAVAILABLE, "the flag was not recorded; try again",
                                   1000);
            if (!post || !post->has_posted())
                return reply_error(reply, v1::NOT_FOUND, "no such post (it may be too old)");
            broker_->add_flag(
                flag.room_id(), flag.seq(), actor.subject,
                [this, flag, actor, reply, post](std::optional<std::uint32_t> count) {
                    if (!count)
                        return reply_error(reply, v1::UNAVAILABLE,
                                           "the flag was not recorded; try again", 1000);
                    if (*count == 0)
                        return reply_error(reply, v1::ALREADY_FLAGGED,
                                           "you have flagged this post already");
                    reply_ack(reply, flag.room_id(), flag.seq());
                    v1::ModerationItem item;
                    item.set_id("flag:" + flag.room_id() + ":" + std::to_string(flag.seq()));
                    item.set_kind(v1::ModerationItem::FLAG);
                    item.set_urgent(flag.reason() == v1::FLAG_CRISIS);
                    item.set_room_id(flag.room_id());
                    item.set_seq(flag.seq());
                    *item.mutable_post() = post->posted();
                    item.set_reason(flag.reason());
                    item.set_note(flag.note());
                    item.set_flag_count(*count);
                    item.set_time_ms(core::wall_ms());
                    send_item(item);
                    record_audit(actor, "flag", flag.room_id(),
                                 "post " + std::to_string(flag.seq()),
                                 v1::FlagReason_Name(flag.reason()));
                    const std::uint32_t threshold = context_.config.moderation.flag_threshold;
                    Room* room = existing_room(flag.room_id());
                    if (threshold == 0 || *count != threshold || room == nullptr ||
                        room->moderation.hidden(flag.seq())) {
                        return;
                    }
                    auto hidden = std::make_unique<v1::Event>();
                    hidden->set_room_id(flag.room_id());
                    hidden->mutable_post_hidden()->set_seq(flag.seq());
                    hidden->mutable_post_hidden()->set_reason("hidden after " +
                                                              std::to_string(threshold) +
                                                              " flags, waiting for a moderator");
                    publish_moderation(std::move(hidden),
                                       StateChange::set(moderation::hidden_field(flag.seq()), "1"),
                                       ReplyTo{shard_, 0, 0});
                    item.set_id("auto:" + flag.room_id() + ":" + std::to_string(flag.seq()));
                    item.set_kind(v1::ModerationItem::AUTO_HIDDEN);
                    send_item(std::move(item));
                    record_audit(Actor{}, "auto_hide", flag.room_id(),
                                 "post " + std::to_string(flag.seq()),
                                 std::to_string(threshold) + " distinct flags");
                });
        });
}

void Hub::owner_moderate(v1::Moderate m, Actor actor, ReplyTo reply) {
    check_owner();
    const config::RoomConfig* config = context_.directory.find(m.room_id());
    if (config == nullptr) return reply_error(reply, v1::UNKNOWN_ROOM, "no such room");
    with_moderation(room(*config), [this, m, actor, reply](bool loaded) {
        if (!loaded) return reply_error(reply, v1::UNAVAILABLE, "try again in a moment", 1000);
        switch (m.action()) {
            case v1::HIDE_POST:
            case v1::RESTORE_POST:
            case v1::RESOLVE_FLAGS:
                return moderate_post(m, actor, reply);
            case v1::RELEASE_POST:
            case v1::REJECT_POST:
                return moderate_held(m, actor, reply);
            case v1::LOCK_ROOM:
            case v1::UNLOCK_ROOM: {
                const bool lock = m.action() == v1::LOCK_ROOM;
                auto event = std::make_unique<v1::Event>();
                event->set_room_id(m.room_id());
                event->mutable_room_lock()->set_locked(lock);
                *event->mutable_room_lock()->mutable_by() = actor.member;
                publish_moderation(
                    std::move(event),
                    lock ? StateChange::set(std::string(moderation::kLockedField), "1")
                         : StateChange::erase(std::string(moderation::kLockedField)),
                    reply);
                return record_audit(actor, lock ? "lock_room" : "unlock_room", m.room_id(), "room",
                                    m.reason());
            }
            case v1::SET_SLOW_MODE: {
                auto event = std::make_unique<v1::Event>();
                event->set_room_id(m.room_id());
                event->mutable_slow_mode()->set_seconds(m.slow_mode_seconds());
                *event->mutable_slow_mode()->mutable_by() = actor.member;
                const std::string field(moderation::kSlowModeField);
                publish_moderation(
                    std::move(event),
                    m.slow_mode_seconds() > 0
                        ? StateChange::set(field, std::to_string(m.slow_mode_seconds()))
                        : StateChange::erase(field),
                    reply);
                return record_audit(actor, "slow_mode", m.room_id(),
                                    std::to_string(m.slow_mode_seconds()) + " s", m.reason());
            }
            default:
                break;
        }
        // Member actions: act on the person behind a present member id, or on a subject.
        if (!m.subject().empty()) {
            v1::PresenceRecord target;
            target.set_subject(m.subject());
            target.mutable_member()->set_member_id(m.member_id());
            return moderate_member(m, actor, std::move(target), reply);
        }
        broker_->find_member(
            m.room_id(), m.member_id(),
            [this, m, actor, reply](std::optional<v1::PresenceRecord> found) {
                if (!found)
                    return reply_error(reply, v1::UNAVAILABLE, "try again in a moment", 1000);
                if (found->subject().empty()) {
                    return reply_error(reply, v1::NOT_FOUND,
                                       "that member is not in the room; use their subject");
                }
                moderate_member(m, actor, std::move(*found), reply);
            });
    });
}

void Hub::moderate_post(const v1::Moderate& m, const Actor& actor, ReplyTo reply) {
    read_post(
        m.room_id(), m.seq(), [this, m, actor, reply](std::optional<v1::Event> post, bool ok) {
            if (!ok) return reply_error(reply, v1::UNAVAILABLE, "try again in a moment", 1000);
            if (!post || !post->has_posted())
                return reply_error(reply, v1::NOT_FOUND, "no such post (it may be too old)");
            const std::string target = "post " + std::to_string(m.seq());
            if (m.action() == v1::RESOLVE_FLAGS) {
                reply_ack(reply, m.room_id(), m.seq());
                resolve_items(m.room_id(), m.seq());
                return record_audit(actor, "resolve_flags", m.room_id(), target, m.reason());
            }
            auto event = std::make_unique<v1::Event>();
            event->set_room_id(m.room_id());
            if (m.action() == v1::HIDE_POST) {
                event->mutable_post_hidden()->set_seq(m.seq());
                *event->mutable_post_hidden()->mutable_by() = actor.member;
                event->mutable_post_hidden()->set_reason(m.reason());
                publish_moderation(std::move(event),
                                   StateChange::set(moderation::hidden_field(m.seq()), "1"), reply);
                resolve_items(m.room_id(), m.seq());
                return record_audit(actor, "hide_post", m.room_id(), target, m.reason());
            }
            event->mutable_post_restored()->set_seq(m.seq());
            *event->mutable_post_restored()->mutable_post() = post->posted();
            *event->mutable_post_restored()->mutable_by() = actor.member;
            publish_moderation(std::move(event),
                               StateChange::erase(moderation::hidden_field(m.seq())), reply);
            resolve_items(m.room_id(), m.seq());
            record_audit(actor, "restore_post", m.room_id(), target, m.reason());
        });
}

void Hub::moderate_member(const v1::Moderate& m, const Actor& actor, v1::PresenceRecord target,
                          ReplyTo reply) {
    const v1::PresenceRecord named = target;
    when_outranked(m, actor, std::move(target), reply, [m, actor, named, reply](Hub& owner) {
        owner.apply_member_action(m, actor, named, reply);
    });
}

void Hub::apply_member_action(const v1::Moderate& m, const Actor& actor,
                              const v1::PresenceRecord& target, ReplyTo reply) {
    const std::string& subject = target.subject();
    const std::uint64_t until = m.duration_seconds() == 0
                                    ? 0
                                    : core::wall_ms() + std::uint64_t{m.duration_seconds()} * 1000;
    const std::string who = target.member().handle().empty()
                                ? subject
                                : target.member().handle() + " (" + subject + ")";
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(m.room_id());
    switch (m.action()) {
        case v1::MUTE: {
            v1::MemberMuted* muted = event->mutable_member_muted();
            *muted->mutable_member() = target.member();
            muted->set_until_ms(until);
            *muted->mutable_by() = actor.member;
            muted->set_reason(m.reason());
            muted->set_subject(subject);
            publish_moderation(
                std::move(event),
                StateChange::set(moderation::mute_field(subject), std::to_string(until)), reply);
            return record_audit(actor, "mute", m.room_id(), who, m.reason());
        }
        case v1::UNMUTE: {
            v1::MemberUnmuted* unmuted = event->mutable_member_unmuted();
            *unmuted->mutable_member() = target.member();
            *unmuted->mutable_by() = actor.member;
            unmuted->set_subject(subject);
            publish_moderation(std::move(event),
                               StateChange::erase(moderation::mute_field(subject)), reply);
            return record_audit(actor, "unmute", m.room_id(), who, m.reason());
        }
        case v1::KICK:
        case v1::BAN: {
            const bool ban = m.action() == v1::BAN;
            v1::MemberRemoved* removed = event->mutable_member_removed();
            *removed->mutable_member() = target.member();
            removed->set_banned(ban);
            removed->set_until_ms(ban ? until : 0);
            *removed->mutable_by() = actor.member;
            removed->set_reason(m.reason());
            removed->set_subject(subject);
            removed->set_global(ban && m.global());
            if (ban && m.global()) {
                // Every instance closes the person's sessions; the room hears of it too.
                auto global_event = std::make_shared<v1::Event>(*event);
                Hub* zero = hubs_[0];
                router_.post(0, [zero, global_event, subject, until] {
                    zero->broker_->publish_global(
                        global_event,
                        StateChange::set(moderation::ban_field(subject), std::to_string(until)),
                        [](bool) {});
                });
                publish_moderation(std::move(event), StateChange{}, reply);
                return record_audit(actor, "ban_global", m.room_id(), who, m.reason());
            }
            publish_moderation(
                std::move(event),
                ban ? StateChange::set(moderation::ban_field(subject), std::to_string(until))
                    : StateChange{},
                reply);
            return record_audit(actor, ban ? "ban" : "kick", m.room_id(), who, m.reason());
        }
        case v1::UNBAN: {
            v1::MemberUnbanned* unbanned = event->mutable_member_unbanned();
            *unbanned->mutable_by() = actor.member;
            unbanned->set_subject(subject);
            unbanned->set_global(m.global());
            if (m.global()) {
                auto global_event = std::make_shared<v1::Event>(*event);
                Hub* zero = hubs_[0];
                router_.post(0, [zero, global_event, subject, reply, room_id = m.room_id()] {
                    zero->broker_->publish_global(
                        global_event, StateChange::erase(moderation::ban_field(subject)),
                        [zero, reply, room_id](bool ok) {
                            if (!ok)
                                return zero->reply_error(reply, v1::UNAVAILABLE, "try again", 1000);
                            zero->reply_ack(reply, room_id, 0);
                        });
                });
                return record_audit(actor, "unban_global", m.room_id(), who, m.reason());
            }
            publish_moderation(std::move(event), StateChange::erase(moderation::ban_field(subject)),
                               reply);
            return record_audit(actor, "unban", m.room_id(), who, m.reason());
        }
        default:
            return reply_error(reply, v1::BAD_REQUEST, "not a member action");
    }
}

void Hub::moderate_held(const v1::Moderate& m, const Actor& actor, ReplyTo reply) {
    broker_->read_state(
        m.room_id(), [this, m, actor, reply](std::optional<moderation::StateFields> fields) {
            if (!fields) return reply_error(reply, v1::UNAVAILABLE, "try again in a moment", 1000);
            const std::string field = moderation::held_field(m.hold_id());
            auto found = fields->find(field);
            v1::HeldPost held;
            if (found == fields->end() || !held.ParseFromString(found->second)) {
                return reply_error(reply, v1::NOT_FOUND,
                                   "no such held post (it may have been handled)");
            }
            // The author is the person this acts on.
            v1::PresenceRecord author;
            *author.mutable_member() = held.post().author();
            author.set_subject(held.post().author_subject());
            when_outranked(m, actor, std::move(author), reply, [m, actor, held, reply](Hub& owner) {
                owner.apply_held_action(m, actor, held, reply);
            });
        });
}

void Hub::apply_held_action(const v1::Moderate& m, const Actor& actor, const v1::HeldPost& held,
                            ReplyTo reply) {
    const std::string field = moderation::held_field(m.hold_id());
    const std::string target = "held " + m.hold_id();
    v1::ModerationItem resolved;
    resolved.set_id("held:" + m.hold_id());
    resolved.set_kind(v1::ModerationItem::RESOLVED);
    resolved.set_room_id(m.room_id());
    if (m.action() == v1::REJECT_POST) {
        broker_->update_state(
            m.room_id(), StateChange::erase(field), [this, reply, room_id = m.room_id()](bool ok) {
                if (!ok) return reply_error(reply, v1::UNAVAILABLE, "try again in a moment", 1000);
                reply_ack(reply, room_id, 0);
            });
        send_item(resolved);
        tell_author_rejected(held);
        return record_audit(actor, "reject_post", m.room_id(), target, m.reason());
    }
    auto event = std::make_unique<v1::Event>();
    event->set_room_id(m.room_id());
    *event->mutable_posted() = held.post();
    event->mutable_posted()->set_released(true);
    // Published under the author's own client message id, so a later retry of the post is
    // recognised, and releasing twice delivers once.
    broker_->publish(std::move(event), held.dedupe_key(), {},
                     [this, reply, room_id = m.room_id(), field](broker::PublishOutcome outcome) {
                         if (outcome.status != broker::PublishOutcome::Status::published &&
                             outcome.status != broker::PublishOutcome::Status::duplicate) {
                             return reply_error(reply, v1::UNAVAILABLE, "not done; try again",
                                                1000);
                         }
                         broker_->update_state(room_id, StateChange::erase(field), [](bool) {});
                         reply_ack(reply, room_id, outcome.seq);
                     });
    send_item(resolved);
    record_audit(actor, "release_post", m.room_id(), target, m.reason());
}

void Hub::publish_moderation(std::unique_ptr<v1::Event> event, StateChange change, ReplyTo reply) {
    std::string room_id = event->room_id();
    broker_->publish_with_state(
        std::move(event), std::move(change),
        [this, reply, room_id = std::move(room_id)](broker::PublishOutcome outcome) {
            if (outcome.status == broker::PublishOutcome::Status::unavailable) {
                return reply_error(reply, v1::UNAVAILABLE, "not done; try again", 1000);
            }
            reply_ack(reply, room_id, outcome.seq);
        });
}

void Hub::enforce(Room& room, const v1::Event& event) {
    // The person concerned hears the moderator's reason privately; the room does not.
    const auto tell = [this, &room](const std::string& subject, const v1::Alert& alert) {
        for (std::uint64_t session_id : room.sessions_of(subject)) {
            send_alert(ReplyTo{room.find(session_id)->shard, session_id, 0}, alert);
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
        owner_leave(room_id, session_id);
        on_session(ReplyTo{home, session_id, 0},
                   [room_id, banned = removed.banned()](Hub& hub, ClientSession* session) {
                       if (!session) return;
                       hub.drop_local_member(room_id, *session);
                       session->on_removed(room_id, banned ? "banned" : "kicked");
                       // A ban ends the connection at once, as the moderator intends.
                       if (banned) session->close(protocol::CloseCode::banned);
                   });
    }
}

void Hub::tell_author_rejected(const v1::HeldPost& held) {
    // The author's member id names their session: "<instance>-<session id in hex>". A
    // session on another instance is not reached (it sees the post stay held).
    const std::string& member_id = held.post().author().member_id();
    const std::string prefix = context_.instance_id + "-";
    if (member_id.rfind(prefix, 0) != 0) return;
    std::uint64_t session_id = 0;
    try {
        session_id = std::stoull(member_id.substr(prefix.size()), nullptr, 16);
    } catch (const std::exception&) {
        return;
    }
    const auto shard = static_cast<unsigned>(session_id >> 48);
    if (shard >= hubs_.size()) return;
    v1::Alert alert;
    alert.set_kind(v1::Alert::POST_REJECTED);
    alert.set_room_id(held.room_id());
    alert.set_message(
        "A moderator decided not to share your post. You can still reach out "
        "to the people and lines listed in the support resources.");
    send_alert(ReplyTo{shard, session_id, 0}, alert);
}

void Hub::send_item(v1::ModerationItem item) {
    Hub* zero = hubs_[0];
    if (!routing_) return;
    router_.post(0,
                 [zero, item = std::move(item)] { zero->broker_->publish_moderation_item(item); });
}

void Hub::record_audit(const Actor& actor, std::string action, const std::string& room_id,
                       std::string target, std::string reason) {
    v1::AuditEntry entry;
    entry.set_time_ms(core::wall_ms());
    entry.set_actor(actor.member.handle().empty() ? "haven" : actor.member.handle());
    entry.set_actor_subject(actor.subject);
    entry.set_action(std::move(action));
    entry.set_room_id(room_id);
    entry.set_target(std::move(target));
    entry.set_reason(std::move(reason));
    Hub* zero = hubs_[0];
    if (!routing_) return;
    router_.post(0, [zero, entry = std::move(entry)]() mutable {
        zero->broker_->append_audit(std::move(entry));
    });
}

void Hub::resolve_items(const std::string& room_id, std::uint64_t seq) {
    for (const char* kind : {"flag:", "auto:", "crisis:"}) {
        v1::ModerationItem resolved;
        resolved.set_id(kind + room_id + ":" + std::to_string(seq));
        resolved.set_kind(v1::ModerationItem::RESOLVED);
        resolved.set_room_id(room_id);
        resolved.set_seq(seq);
        send_item(std::move(resolved));
    }
}

void Hub::reply_error(const ReplyTo& reply, v1::ErrorCode code, std::string message,
                      std::uint32_t retry_after_ms) {
    on_session(reply, [code, message = std::move(message), retry_after_ms,
                       request = reply.request_id](Hub&, ClientSession* session) {
        if (session) session->send_error(request, code, message, retry_after_ms);
    });
}

void Hub::reply_ack(const ReplyTo& reply, const std::string& room_id, std::uint64_t seq) {
    v1::Ack ack;
    ack.set_room_id(room_id);
    ack.set_seq(seq);
    reply_ack(reply, std::move(ack));
}

void Hub::reply_ack(const ReplyTo& reply, v1::Ack ack) {
    on_session(reply,
               [ack = std::move(ack), request = reply.request_id](Hub&, ClientSession* session) {
                   if (!session) return;
                   v1::ServerMessage message;
                   message.set_request_id(request);
                   *message.mutable_ack() = ack;
                   session->send(message);
               });
}

}  // namespace haven::rooms
