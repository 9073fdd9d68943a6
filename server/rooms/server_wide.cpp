#include "rooms/server_wide.hpp"

#include <limits>

#include "rooms/alert_ladder.hpp"
#include "rooms/room_directory.hpp"
#include "rooms/runtime_rooms.hpp"

#include "core/metrics.hpp"
#include "core/server_context.hpp"
#include "core/shard_identity.hpp"
#include "rooms/hub.hpp"
#include "rooms/room_owner.hpp"

namespace haven::rooms {

ServerWide::ServerWide(core::ShardRouter& router, const std::vector<Hub*>& hubs)
    : router_(router), hubs_(hubs), duty_board_(router, hubs) {}

void ServerWide::connect(std::vector<RoomOwner*> owners) {
    owners_ = std::move(owners);
    broker_ = &owners_[0]->broker();
    zero_.emplace(*broker_);
    duty_board_.connect(*broker_);
    const config::SafetyConfig& safety = hubs_[0]->context().config.safety;
    followups_.emplace(safety.followup_grace_seconds * 1000ULL);
    check_ins_.emplace(safety.max_check_in_threads, safety.check_in_hours * 3'600'000ULL);
}

template <class Task>
void ServerWide::on_zero(Task task) {
    if (!hubs_[0]->routing()) return;
    router_.post(0, [this, task = std::move(task)]() mutable {
        core::check_owner(0, "rooms::ServerWide");
        task(*broker_);
    });
}

void ServerWide::append_audit(v1::AuditEntry entry) {
    on_zero([entry = std::move(entry)](broker::Broker& zero) mutable {
        zero.append_audit(std::move(entry));
    });
}

void ServerWide::publish_item(v1::ModerationItem item) {
    on_zero([item = std::move(item)](broker::Broker& zero) { zero.publish_moderation_item(item); });
}

void ServerWide::record_role(std::string subject, broker::KnownRole seen) {
    on_zero([subject = std::move(subject), seen = std::move(seen)](broker::Broker& zero) {
        zero.record_role(subject, seen);
    });
}

core::Awaitable<broker::Result<v1::AuditPage>> ServerWide::read_audit(const std::string& room_id,
                                                                      const std::string& before_id,
                                                                      std::uint32_t limit) {
    co_return co_await core::on_loop(
        router_.context(0), [&]() { return zero_->read_audit(room_id, before_id, limit); });
}

core::Awaitable<broker::Result<std::vector<v1::ModerationItem>>> ServerWide::read_queue() {
    co_return co_await core::on_loop(router_.context(0),
                                     [&]() { return zero_->read_moderation_queue(); });
}

core::Awaitable<broker::Result<std::optional<broker::KnownRole>>> ServerWide::find_role(
    const std::string& subject) {
    co_return co_await core::on_loop(router_.context(0),
                                     [&]() { return zero_->find_role(subject); });
}

core::Awaitable<broker::Result<broker::ClaimOutcome>> ServerWide::claim_item(
    const v1::ModerationItem& claim) {
    co_return co_await core::on_loop(
        router_.context(0), [&]() -> core::Awaitable<broker::Result<broker::ClaimOutcome>> {
            broker::Result<broker::ClaimOutcome> outcome = co_await zero_->claim_item(claim);
            // The owner is known here from this moment, not only once the claim's event comes
            // back: the winner's next step (reaching out) is checked against this queue.
            if (outcome && outcome->kind != broker::ClaimOutcome::Kind::gone) {
                v1::ModerationItem owner = outcome->claim;
                owner.set_id(claim.id());
                owner.set_kind(v1::ModerationItem::CLAIMED);
                open_queue_.apply(owner);
                publish_queue_gauges();
            }
            co_return outcome;
        });
}

namespace {

constexpr std::uint64_t kWebhookDone = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kWebhookAsking = kWebhookDone - 1;

}  // namespace

void ServerWide::escalate_due(std::uint64_t now_ms) {
    core::check_owner(0, "rooms::ServerWide");
    if (!zero_ || !hubs_[0]->routing()) return;
    const config::SafetyConfig& safety = hubs_[0]->context().config.safety;
    const LadderTiming timing{safety.claim_timeout_seconds * 1000ULL,
                              safety.escalation_step_seconds * 1000ULL,
                              static_cast<bool>(webhook_)};
    LadderTiming held_timing = timing;
    held_timing.webhook = false;  // the operators' outside alert is for people at risk
    std::vector<moderation::OpenQueue::Waiting> ladder = open_queue_.on_the_ladder();
    if (webhook_) resend_webhooks_due(ladder, now_ms);
    for (moderation::OpenQueue::Waiting& waiting : ladder) {
        const std::uint32_t due =
            due_step(waiting.urgent ? timing : held_timing, now_ms, waiting.time_ms);
        if (due <= waiting.escalation || !escalating_.insert(waiting.id).second) continue;
        // One step at a time: a late start (or a long outage) still climbs every rung.
        const std::uint32_t step = waiting.escalation + 1;
        core::spawn(router_.context(0), escalate_flow(std::move(waiting), step, now_ms));
    }
}

core::Awaitable<void> ServerWide::escalate_flow(moderation::OpenQueue::Waiting waiting,
                                                std::uint32_t step, std::uint64_t now_ms) {
    core::check_owner(0, "rooms::ServerWide");
    v1::ModerationItem notice;
    notice.set_id(waiting.id);
    notice.set_kind(v1::ModerationItem::ESCALATED);
    notice.set_room_id(waiting.room_id);
    notice.set_escalation(step);
    notice.set_time_ms(waiting.time_ms);
    broker::Result<bool> took = co_await zero_->escalate_item(notice);
    escalating_.erase(waiting.id);
    if (!took || !*took) co_return;  // another instance took it, or it was claimed meanwhile
    core::ServerContext& context = hubs_[0]->context();
    context.metrics.alerts.escalations[step - 1].fetch_add(1);
    context.metrics.shard(0).count_action("escalate_item");
    v1::AuditEntry entry;
    entry.set_time_ms(now_ms);
    entry.set_actor("haven");
    entry.set_action("escalate_item");
    entry.set_room_id(waiting.room_id);
    entry.set_target("item " + waiting.id);
    entry.set_reason(std::string(ladder_step_name(step)) + " after " +
                     std::to_string((now_ms - std::min(now_ms, waiting.time_ms)) / 1000) +
                     " s unclaimed");
    zero_->plain().append_audit(std::move(entry));
    if (step == kWebhookStep && webhook_) {
        webhook_checks_[waiting.id] = kWebhookAsking;
        co_await send_webhook_flow(std::move(waiting), now_ms);
    }
}

void ServerWide::resend_webhooks_due(const std::vector<moderation::OpenQueue::Waiting>& ladder,
                                     std::uint64_t now_ms) {
    core::check_owner(0, "rooms::ServerWide");
    std::map<std::string, std::uint64_t> still_escalated;
    for (const moderation::OpenQueue::Waiting& waiting : ladder) {
        if (!waiting.urgent || waiting.escalation < kWebhookStep) continue;
        // First seen (raised to step 3 elsewhere, or before this instance started): ask now;
        // a hold that has not run out refuses.
        const auto known = webhook_checks_.find(waiting.id);
        const std::uint64_t due = known == webhook_checks_.end() ? now_ms : known->second;
        if (due > now_ms) {
            still_escalated.emplace(waiting.id, due);
            continue;
        }
        still_escalated.emplace(waiting.id, kWebhookAsking);
        core::spawn(router_.context(0), send_webhook_flow(waiting, now_ms));
    }
    // Claimed, resolved or gone: forgotten.
    webhook_checks_ = std::move(still_escalated);
}

core::Awaitable<void> ServerWide::send_webhook_flow(moderation::OpenQueue::Waiting waiting,
                                                    std::uint64_t now_ms) {
    core::check_owner(0, "rooms::ServerWide");
    const std::uint64_t until_ms = now_ms + webhook_hold_ms_;
    const broker::Result<bool> held = co_await zero_->hold_webhook(waiting.id, now_ms, until_ms);
    if (auto check = webhook_checks_.find(waiting.id); check != webhook_checks_.end()) {
        check->second = until_ms;  // whoever holds it, ask again when the hold ends
    }
    if (!held || !*held) co_return;
    core::ServerContext& context = hubs_[0]->context();
    webhook_(webhook_body(waiting, kWebhookStep, context.instance_id, now_ms),
             [this, id = waiting.id](bool delivered) {
                 if (!delivered) return;  // asked again when the hold ends
                 router_.post(0, [this, id] {
                     zero_->plain().mark_webhook_sent(id);
                     if (auto check = webhook_checks_.find(id); check != webhook_checks_.end()) {
                         check->second = kWebhookDone;
                     }
                 });
             });
}

void ServerWide::expire_held_due(std::uint64_t now_ms) {
    core::check_owner(0, "rooms::ServerWide");
    if (!zero_ || !hubs_[0]->routing()) return;
    core::ServerContext& context = hubs_[0]->context();
    const std::uint64_t timeout_ms = context.config.moderation.hold_timeout_seconds * 1000ULL;
    if (timeout_ms == 0) return;
    const std::uint64_t mine_before = now_ms - std::min(now_ms, timeout_ms);
    const std::uint64_t others_before =
        now_ms - std::min(now_ms, timeout_ms + kOtherInstanceHoldDelayMs);
    for (const auto& overdue :
         open_queue_.overdue_held(mine_before, others_before, context.instance_id + "-")) {
        auto [retry, fresh] = expiring_.try_emplace(overdue.id, 0);
        if (!fresh && retry->second > now_ms) continue;
        // Still open then (the broker was away, or the answer is on its way): try again.
        retry->second = now_ms + 30'000;
        const unsigned shard = directory().owner_shard(overdue.room_id);
        RoomOwner* owner = owners_[shard];
        router_.post(shard, [owner, room_id = overdue.room_id, hold_id = overdue.hold_id] {
            owner->moderation_hooks().expire_held(room_id, hold_id);
        });
    }
}

core::Awaitable<std::optional<moderation::OpenQueue::AboutWhom>> ServerWide::about_whom(
    const std::string& item_id) {
    co_return co_await core::on_loop(
        router_.context(0),
        [&]() -> core::Awaitable<std::optional<moderation::OpenQueue::AboutWhom>> {
            co_return open_queue_.about_whom(item_id);
        });
}

core::Awaitable<std::optional<moderation::CheckInThread>> ServerWide::check_in_thread(
    const std::string& thread_id) {
    co_return co_await core::on_loop(
        router_.context(0), [&]() -> core::Awaitable<std::optional<moderation::CheckInThread>> {
            const std::uint64_t now_ms = core::wall_ms();
            if (auto known = check_ins_->find(thread_id, now_ms)) co_return known;
            // Begun before this instance started, or forgotten here: the broker may know it.
            broker::Result<std::optional<std::string>> stored =
                co_await zero_->find_check_in(thread_id);
            if (!stored || !*stored) co_return std::nullopt;
            std::optional<moderation::CheckInThread> thread =
                moderation::decode_check_in(**stored, now_ms);
            if (thread) check_ins_->wrote(thread_id, *thread);
            co_return thread;
        });
}

void ServerWide::remember_check_in(std::string thread_id, moderation::CheckInThread thread) {
    router_.post(0, [this, thread_id = std::move(thread_id), thread = std::move(thread)] {
        core::check_owner(0, "rooms::ServerWide");
        const std::uint64_t idle_ms =
            hubs_[0]->context().config.safety.check_in_hours * 3'600'000ULL;
        zero_->plain().remember_check_in(thread_id, moderation::encode_check_in(thread), idle_ms);
    });
}

void ServerWide::private_note(const std::shared_ptr<const v1::Event>& event) {
    const v1::PrivateNote& note = event->private_note();
    const v1::PrivateMessage& message = note.message();
    // A moderator's check-in makes (or renews) the conversation; an answer keeps it alive.
    if (message.from_moderator()) {
        check_ins_->wrote(message.thread_id(), {message.room_id(), note.to_subject(),
                                                note.from_subject(), message.time_ms()});
    } else {
        check_ins_->touch(message.thread_id(), message.time_ms());
    }
    for (Hub* hub : hubs_) {
        if (!hub->routing()) return;
        router_.post(hub->shard(), [hub, event] { hub->deliver_private(event->private_note()); });
    }
}

void ServerWide::watch_departure(std::string room_id, std::string subject) {
    const config::SafetyConfig& safety = hubs_[0]->context().config.safety;
    if (safety.followup_minutes == 0 || !hubs_[0]->routing()) return;
    const std::uint64_t left_at_ms = core::wall_ms();
    router_.post(0, [this, room_id = std::move(room_id), subject = std::move(subject),
                     left_at_ms]() mutable {
        core::check_owner(0, "rooms::ServerWide");
        // The alert itself may still be on its way here: it is looked for when the wait ends.
        moderation::Departure gone{std::move(room_id), std::move(subject), left_at_ms};
        // Written down for the other instances too, in case this one dies during the wait.
        zero_->plain().record_departure(gone, left_at_ms + followup_takeover_ms());
        followups_->departed(std::move(gone));
    });
}

std::vector<moderation::OpenQueue::CrisisByAuthor> ServerWide::alerts_of(
    const moderation::Departure& gone) const {
    const std::uint64_t window_ms = hubs_[0]->context().config.safety.followup_minutes * 60'000ULL;
    return open_queue_.crisis_by(gone.room_id, gone.subject,
                                 gone.left_at_ms - std::min(gone.left_at_ms, window_ms));
}

void ServerWide::follow_up_due(std::uint64_t now_ms) {
    core::check_owner(0, "rooms::ServerWide");
    if (!zero_ || !hubs_[0]->routing()) return;
    for (moderation::Departure& gone : followups_->take_due(now_ms)) {
        zero_->plain().forget_departure(gone);
        if (alerts_of(gone).empty()) continue;  // none raised, or all closed meanwhile
        core::spawn(router_.context(0), follow_up_flow(std::move(gone)));
    }
    if (!taking_over_ && now_ms >= next_takeover_ms_) {
        taking_over_ = true;
        next_takeover_ms_ = now_ms + kTakeoverPollMs;
        core::spawn(router_.context(0), take_over_departures_flow(now_ms));
    }
}

std::uint64_t ServerWide::followup_takeover_ms() const {
    return hubs_[0]->context().config.safety.followup_grace_seconds * 1000ULL +
           kOtherInstanceHoldDelayMs;
}

core::Awaitable<void> ServerWide::take_over_departures_flow(std::uint64_t now_ms) {
    core::check_owner(0, "rooms::ServerWide");
    // Waits whose instance did not end them in time: it is gone (or very late, and the
    // notice is sent once either way).
    broker::Result<std::vector<moderation::Departure>> orphaned =
        co_await zero_->take_departures(now_ms, kTakeoverBatch);
    taking_over_ = false;
    if (!orphaned) co_return;
    if (orphaned->size() == kTakeoverBatch) next_takeover_ms_ = now_ms;  // more are waiting
    for (moderation::Departure& gone : *orphaned) {
        if (alerts_of(gone).empty()) continue;
        core::spawn(router_.context(0), follow_up_flow(std::move(gone)));
    }
}

core::Awaitable<void> ServerWide::follow_up_flow(moderation::Departure gone) {
    core::check_owner(0, "rooms::ServerWide");
    // The room's presence, as its owner shard's broker keeps it (Redis: every instance's).
    const unsigned shard = directory().owner_shard(gone.room_id);
    broker::AsyncBroker& owner = owners_[shard]->async_broker();
    broker::Result<broker::PresenceSnapshot> present = co_await core::on_loop(
        router_.context(shard), [&]() { return owner.read_presence(gone.room_id); });
    if (present && std::find(present->subjects.begin(), present->subjects.end(), gone.subject) !=
                       present->subjects.end()) {
        co_return;  // back, here or on another instance
    }
    // Not known (the broker did not answer): a notice too many is better than one missing.
    for (moderation::OpenQueue::CrisisByAuthor& alert : alerts_of(gone)) {
        co_await tell_author_left(gone, alert);
    }
}

core::Awaitable<void> ServerWide::tell_author_left(
    const moderation::Departure& gone, const moderation::OpenQueue::CrisisByAuthor& alert) {
    v1::ModerationItem notice;
    notice.set_id(alert.id);
    notice.set_kind(v1::ModerationItem::AUTHOR_LEFT);
    notice.set_room_id(gone.room_id);
    notice.set_time_ms(alert.time_ms);
    notice.set_left_at_ms(gone.left_at_ms);
    notice.set_claimed_by(alert.claimed_by);
    notice.set_claimed_by_subject(alert.claimed_by_subject);
    broker::Result<bool> took = co_await zero_->mark_author_left(notice);
    if (!took) {
        followups_->departed(gone);  // the broker is away: ask again later
        co_return;
    }
    if (!*took) co_return;  // another instance told them
    core::ServerContext& context = hubs_[0]->context();
    context.metrics.alerts.followups.fetch_add(1);
    context.metrics.shard(0).count_action("author_left");
    v1::AuditEntry entry;
    entry.set_time_ms(core::wall_ms());
    entry.set_actor("haven");
    entry.set_action("author_left");
    entry.set_room_id(gone.room_id);
    entry.set_target("item " + alert.id);
    entry.set_reason(
        "left " +
        std::to_string((gone.left_at_ms - std::min(gone.left_at_ms, alert.time_ms)) / 1000) +
        " s after the alert and was not back in " +
        std::to_string(context.config.safety.followup_grace_seconds) + " s");
    zero_->plain().append_audit(std::move(entry));
}

core::Awaitable<broker::Result<void>> ServerWide::publish_global(broker::EventPtr&& event,
                                                                 moderation::StateChange&& change) {
    co_return co_await core::on_loop(router_.context(0), [&]() {
        return zero_->publish_global(std::move(event), std::move(change));
    });
}

void ServerWide::load_global_bans() {
    core::spawn(router_.context(0), load_global_bans_flow());
}

core::Awaitable<void> ServerWide::load_global_bans_flow() {
    core::check_owner(0, "rooms::ServerWide");
    broker::Result<moderation::StateFields> fields = co_await zero_->read_global_state();
    if (!fields) {
        // The broker is not reachable yet: try again shortly.
        router_.post(0, [this] { load_global_bans(); });
        co_return;
    }
    load_runtime_rooms(*fields, directory());
    for (Hub* hub : hubs_) {
        router_.post(hub->shard(), [hub, bans = *fields] { hub->load_global_bans(bans); });
    }
}

void ServerWide::on_global_event(const broker::EventPtr& event) {
    core::check_owner(0, "rooms::ServerWide");
    if (event->has_room_opened()) return room_opened(event->room_opened().room());
    if (event->has_room_closed()) return room_closed(event->room_closed().room_id());
    if (event->has_private_note()) return private_note(event);
    for (Hub* hub : hubs_) {
        if (!hub->routing()) return;
        router_.post(hub->shard(), [hub, event] { hub->apply_global(*event); });
    }
}

void ServerWide::room_opened(const v1::RuntimeRoom& room) {
    core::check_owner(0, "rooms::ServerWide");
    if (auto config = room_config(room)) directory().open(std::move(*config));
}

void ServerWide::room_closed(const std::string& room_id) {
    core::check_owner(0, "rooms::ServerWide");
    if (!directory().close(room_id)) return;  // told already (this instance closed it)
    if (!hubs_[0]->routing()) return;
    hubs_[0]->close_room(room_id);
}

RoomDirectory& ServerWide::directory() {
    return hubs_[0]->context().directory;
}

void ServerWide::load_open_queue() {
    core::spawn(router_.context(0), load_open_queue_flow());
}

core::Awaitable<void> ServerWide::load_open_queue_flow() {
    core::check_owner(0, "rooms::ServerWide");
    broker::Result<std::vector<v1::ModerationItem>> items = co_await zero_->read_moderation_queue();
    if (!items) {
        router_.post(0, [this] { load_open_queue(); });
        co_return;
    }
    open_queue_.load(*items);
    publish_queue_gauges();
}

void ServerWide::publish_queue_gauges() {
    const moderation::OpenQueue::Summary summary = open_queue_.summary();
    core::Metrics::Queue& gauges = hubs_[0]->context().metrics.queue;
    gauges.urgent.store(summary.urgent);
    gauges.held.store(summary.held);
    gauges.flagged.store(summary.flagged);
    gauges.oldest_urgent_ms.store(summary.oldest_urgent_ms);
    gauges.unclaimed_urgent.store(summary.unclaimed_urgent);
}

void ServerWide::on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item) {
    core::check_owner(0, "rooms::ServerWide");
    open_queue_.apply(*item);
    if (item->kind() == v1::ModerationItem::RESOLVED) expiring_.erase(item->id());
    publish_queue_gauges();
    for (Hub* hub : hubs_) {
        if (!hub->routing()) return;
        router_.post(hub->shard(), [hub, item] { hub->deliver_item(*item); });
    }
}

}  // namespace haven::rooms
