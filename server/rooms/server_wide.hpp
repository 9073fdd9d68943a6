// The server-wide state: the audit log, the moderation queue, global bans and the roles people
// have been seen with. It lives in shard 0's broker; this is the one typed way to it from any
// shard. Writes are handed to shard 0 and forgotten; reads are coroutines that hop to shard 0
// and resume on the caller's shard with a Result.
//
// Executor: shard 0. Every member function may be called on any shard; the work runs on 0.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/async_broker.hpp"
#include "broker/broker.hpp"
#include "core/shard_router.hpp"
#include "core/spawn.hpp"
#include "haven.pb.h"
#include "moderation/check_in_threads.hpp"
#include "moderation/followup_watch.hpp"
#include "moderation/open_queue.hpp"
#include "rooms/duty_board.hpp"

namespace haven::rooms {

class Hub;
class RoomDirectory;
class RoomOwner;

class ServerWide {
public:
    ServerWide(core::ShardRouter& router, const std::vector<Hub*>& hubs);
    // Wiring: every shard's owner (shard 0's broker holds the server-wide state).
    void connect(std::vector<RoomOwner*> owners);
    DutyBoard& duty_board() { return duty_board_; }

    void append_audit(v1::AuditEntry entry);
    void publish_item(v1::ModerationItem item);
    void record_role(std::string subject, broker::KnownRole seen);

    // (Arguments by reference: see broker/async_broker.hpp.)
    core::Awaitable<broker::Result<v1::AuditPage>> read_audit(const std::string& room_id,
                                                              const std::string& before_id,
                                                              std::uint32_t limit);
    core::Awaitable<broker::Result<std::vector<v1::ModerationItem>>> read_queue();
    core::Awaitable<broker::Result<std::optional<broker::KnownRole>>> find_role(
        const std::string& subject);
    core::Awaitable<broker::Result<void>> publish_global(broker::EventPtr&& event,
                                                         moderation::StateChange&& change);
    core::Awaitable<broker::Result<broker::ClaimOutcome>> claim_item(
        const v1::ModerationItem& claim);

    // The escalation ladder for urgent items nobody claims (config [safety]): called on shard
    // 0 with the sweep. Each step due is taken by whichever instance comes first, once; step 3
    // hands the alert to `webhook` (set at start; none: the ladder stops at step 2), which
    // says on any thread whether the receiver took it. Until it did, any instance sends it
    // again once the sender's hold of `hold_ms` has run out (see Broker::hold_webhook).
    using Delivered = std::function<void(bool delivered)>;
    using AlertWebhook = std::function<void(std::string json, Delivered done)>;
    void set_alert_webhook(AlertWebhook webhook, std::uint64_t hold_ms) {
        webhook_ = std::move(webhook);
        webhook_hold_ms_ = hold_ms;
    }
    void escalate_due(std::uint64_t now_ms);
    // Held posts unanswered for moderation.hold_timeout_seconds (shard 0, with the sweep): each
    // is handed to its room's owner shard, whose moderation module delivers or rejects it by
    // the room's policy, once in the whole deployment. The author's instance goes first; the
    // others wait kOtherInstanceHoldDelayMs longer, in case it is gone.
    void expire_held_due(std::uint64_t now_ms);
    static constexpr std::uint64_t kOtherInstanceHoldDelayMs = 15'000;

    // Someone who leaves right after a crisis post (config [safety] followup_*): a member with
    // a crisis post in `room_id` in the follow-up window (the room's desk knows) left it of
    // their own accord or lost their connection. Their return is waited for through the grace
    // period; `follow_up_due` (shard 0, with the sweep) then matches the open alerts their
    // posts raised (which may have arrived after they left), asks the room's presence on every
    // instance, and when they are not back the alert's owner or the moderators on duty get an
    // AUTHOR_LEFT notice, once per alert in the whole deployment. The wait is written to the
    // broker too: if this instance dies during it, another takes it over
    // kOtherInstanceHoldDelayMs after the grace (Broker::take_departures).
    void watch_departure(std::string room_id, std::string subject);

    // Reach out (moderation/desk/check_ins): whom an open alert is about and who owns it, and
    // who may answer a private conversation, as shard 0 knows them, or else the broker (for a
    // conversation begun before this instance started).
    core::Awaitable<std::optional<moderation::OpenQueue::AboutWhom>> about_whom(
        const std::string& item_id);
    core::Awaitable<std::optional<moderation::CheckInThread>> check_in_thread(
        const std::string& thread_id);
    // A message was sent in the conversation: the broker keeps it check_in_hours from now.
    void remember_check_in(std::string thread_id, moderation::CheckInThread thread);
    void follow_up_due(std::uint64_t now_ms);

    // Shard 0, at start-up: loads the global bans and hands them to every shard, opens the
    // rooms opened at run time, and reads the open moderation queue for /metrics (each trying
    // again while the broker cannot be reached).
    void load_global_bans();
    void load_open_queue();

    // Shard 0's broker sink, for server-wide events: handed to every shard.
    void on_global_event(const broker::EventPtr& event);
    void on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item);

private:
    template <class Task>
    void on_zero(Task task);
    core::Awaitable<void> load_global_bans_flow();
    core::Awaitable<void> load_open_queue_flow();
    void publish_queue_gauges();
    core::Awaitable<void> escalate_flow(moderation::OpenQueue::Waiting waiting, std::uint32_t step,
                                        std::uint64_t now_ms);
    core::Awaitable<void> send_webhook_flow(moderation::OpenQueue::Waiting waiting,
                                            std::uint64_t now_ms);
    // Escalated items whose webhook may not have been taken: asks to send those due.
    void resend_webhooks_due(const std::vector<moderation::OpenQueue::Waiting>& ladder,
                             std::uint64_t now_ms);
    core::Awaitable<void> follow_up_flow(moderation::Departure gone);
    // How long after a departure another instance takes its wait over: the grace and
    // kOtherInstanceHoldDelayMs.
    std::uint64_t followup_takeover_ms() const;
    core::Awaitable<void> take_over_departures_flow(std::uint64_t now_ms);
    static constexpr std::uint64_t kTakeoverPollMs = 2'000;
    static constexpr std::uint32_t kTakeoverBatch = 100;
    // Awaited flows take what they are given by reference: see broker/async_broker.hpp.
    core::Awaitable<void> tell_author_left(const moderation::Departure& gone,
                                           const moderation::OpenQueue::CrisisByAuthor& alert);
    // The open alerts raised by a departed person's posts in the follow-up window before it.
    std::vector<moderation::OpenQueue::CrisisByAuthor> alerts_of(
        const moderation::Departure& gone) const;
    // A room opened or closed at run time, on whichever instance: the directory follows, and a
    // closed room's members here leave it.
    void room_opened(const v1::RuntimeRoom& room);
    void room_closed(const std::string& room_id);
    RoomDirectory& directory();

    core::ShardRouter& router_;
    const std::vector<Hub*>& hubs_;
    std::vector<RoomOwner*> owners_;
    broker::Broker* broker_ = nullptr;
    std::optional<broker::AsyncBroker> zero_;  // the same broker, awaited
    moderation::OpenQueue open_queue_;         // shard 0's
    AlertWebhook webhook_;
    std::uint64_t webhook_hold_ms_ = 0;
    // Escalated items by id: when to ask again whether their webhook is this instance's to send
    // (kWebhookDone: it was taken; kWebhookAsking: a flow is asking).
    std::map<std::string, std::uint64_t> webhook_checks_;
    std::set<std::string> escalating_;  // items with a step in flight
    // Held posts handed to their owner shard, by item id: when to try again if still open.
    std::map<std::string, std::uint64_t> expiring_;
    std::optional<moderation::FollowupWatch> followups_;
    bool taking_over_ = false;  // a take_departures in flight
    std::uint64_t next_takeover_ms_ = 0;
    std::optional<moderation::CheckInThreads> check_ins_;  // made with the config, at connect
    void private_note(
        const std::shared_ptr<const v1::Event>& event);  // made with the config, at connect
    DutyBoard duty_board_;
};

}  // namespace haven::rooms
