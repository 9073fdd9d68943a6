// The Broker: where a room's events get their order, their durability and their way to every
// instance. Rooms hand it events and receive every event back through one BrokerSink, whether
// it was published here or on another instance, so there is one path to the sockets and one
// source of order.
//
// Threading contract: one Broker object per shard. Every call concerning a room is made on
// that room's owner shard, and callbacks and sink calls for it run on that shard too.
//
// Callback contract: a callback may run before the call that was given it returns (the memory
// broker answers at once); an implementation then touches none of the call's arguments after
// calling it, since the caller may have gone on and finished (broker/async_broker).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "haven.pb.h"
#include "moderation/followup_watch.hpp"
#include "moderation/moderation_state.hpp"

namespace haven::broker {

// A capacity for add_member that no room reaches (the Redis script compares numbers).
inline constexpr std::uint32_t kNoCapacityLimit = 0xffffffffu;

using EventPtr = std::shared_ptr<const v1::Event>;

struct PublishOutcome {
    // conflict: a StateChange::swap found another version stored; nothing was published.
    enum class Status { published, duplicate, unavailable, rate_limited, conflict };
    Status status = Status::unavailable;
    std::uint64_t seq = 0;  // the event's sequence number (the original one for a duplicate)
    std::uint32_t retry_after_ms = 0;  // with rate_limited
};
using PublishCallback = std::function<void(PublishOutcome)>;

// A person's post budget, shared by all their sessions on every instance. An empty subject
// (or a zero rate) means no limit.
struct AuthorLimit {
    std::string subject;
    double per_second = 0;
    double burst = 0;
};

// A page of a room's retained history. Events are oldest first.
struct HistoryQuery {
    std::string room_id;
    std::uint64_t after_seq = 0;   // exclusive lower bound; 0 = none
    std::uint64_t before_seq = 0;  // exclusive upper bound; 0 = none
    std::uint32_t limit = 50;
    // With only an upper bound (or none), which end of the range the page comes from: the
    // newest events (paging backwards) or the oldest (paging forwards from after_seq).
    bool newest = true;
};

struct HistorySlice {
    bool ok = false;  // false: the broker could not be read; nothing else is meaningful
    std::vector<EventPtr> events;
    std::uint64_t oldest_seq = 0;  // oldest retained sequence number, 0 when empty
    std::uint64_t last_seq = 0;    // newest sequence number ever assigned in the room
    bool has_more = false;         // events exist beyond the page in the direction read
    // For after_seq queries: true when nothing between after_seq and the page was trimmed.
    bool complete = true;
};
using HistoryCallback = std::function<void(HistorySlice)>;

// Presence: who is in a room across every instance. Every arrival and departure increments the
// room's presence version, and its member_joined / member_left event carries the new version,
// so a reader can put presence events in order and notice one it never received.
struct JoinOutcome {
    enum class Status { joined, full, already_member, handle_taken, unavailable };
    Status status = Status::unavailable;
    std::vector<v1::Member> members;     // everyone in the room after the join
    std::uint64_t presence_version = 0;  // the version this join made
};
using JoinCallback = std::function<void(JoinOutcome)>;
struct PresenceSnapshot {
    std::vector<v1::Member> members;
    std::uint64_t version = 0;          // the presence version `members` shows
    std::vector<std::string> subjects;  // whose sessions they are: subjects[i] is members[i]'s
};
// Nothing: the broker could not be reached.
using PresenceCallback = std::function<void(std::optional<PresenceSnapshot>)>;
// Members left in the room after a removal (nothing when the broker could not be reached).
using LeaveCallback = std::function<void(std::optional<std::uint32_t> remaining)>;

// Nothing: the broker could not be reached.
using StateCallback = std::function<void(std::optional<moderation::StateFields>)>;
// A field taken out of a room's state: its value, or nothing inner when it was not there
// (nothing outer: the broker could not be reached).
using TakeCallback = std::function<void(std::optional<std::optional<std::string>>)>;
using MemberCallback = std::function<void(std::optional<v1::PresenceRecord>)>;
// A post's flags after one more: distinct flaggers (0 when this person had flagged it
// already), and how many of them were trusted (see moderation.flag_trust_minutes).
struct FlagCount {
    std::uint32_t flaggers = 0;
    std::uint32_t trusted = 0;
    bool operator==(const FlagCount&) const = default;
};
using FlagCallback = std::function<void(std::optional<FlagCount>)>;
using QueueCallback = std::function<void(std::optional<std::vector<v1::ModerationItem>>)>;
// A claim on an open moderation item: exactly one claim per item wins, on every instance.
struct ClaimOutcome {
    enum class Kind { won, taken, gone };
    Kind kind = Kind::gone;    // gone: no such open item (resolved, or never was)
    v1::ModerationItem item;   // the stored item, with its owner's claim fields
    v1::ModerationItem claim;  // the claim that holds it: ours (won) or theirs (taken)
};
using ClaimCallback = std::function<void(std::optional<ClaimOutcome>)>;
// What a won claim adds to the stored item: its owner, nothing else.
inline v1::ModerationItem claim_fields(const v1::ModerationItem& claim) {
    v1::ModerationItem fields;
    fields.set_claimed_by(claim.claimed_by());
    fields.set_claimed_by_subject(claim.claimed_by_subject());
    fields.set_claimed_at_ms(claim.claimed_at_ms());
    return fields;
}
// Whether this call moved the item up its escalation ladder (nothing: broker unreachable).
using EscalateCallback = std::function<void(std::optional<bool>)>;
using DeparturesCallback = std::function<void(std::optional<std::vector<moderation::Departure>>)>;
using AuditCallback = std::function<void(std::optional<v1::AuditPage>)>;
using DoneCallback = std::function<void(bool ok)>;

// The highest roles a person has been seen with, their own and per room (grants), remembered
// for a while so an action naming someone who is offline still knows whom it names.
struct KnownRole {
    v1::Role role = v1::ROLE_UNSPECIFIED;
    std::map<std::string, v1::Role> room_roles;
    // The role in one room: the higher of their own and the room's grant.
    v1::Role in_room(const std::string& room_id) const {
        auto grant = room_roles.find(room_id);
        return grant == room_roles.end() ? role : std::max(role, grant->second);
    }
};
struct RoleLookup {
    bool ok = false;                 // false: the broker could not be asked
    std::optional<KnownRole> known;  // nothing: never seen (or forgotten)
};
using RoleCallback = std::function<void(RoleLookup)>;

class BrokerSink {
public:
    virtual ~BrokerSink() = default;
    // A room event to deliver to this instance's members, in the room's order.
    virtual void on_room_event(const EventPtr& event) = 0;
    // Live events of the room may have been missed until now (a subscription was made or
    // made again): whatever the sink keeps of the room's presence must be read afresh.
    virtual void on_room_resubscribed(const std::string& room_id) = 0;
    // A server-wide event (global ban or unban). Delivered to shard 0's sink.
    virtual void on_global_event(const EventPtr& event) = 0;
    // An item for the moderators connected to this instance. Delivered to shard 0's sink.
    virtual void on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item) = 0;
    // Another instance's account of who is on duty there. Delivered to shard 0's sink.
    virtual void on_duty_report(const std::shared_ptr<const v1::DutyReport>& report) = 0;
};

class Broker {
public:
    virtual ~Broker() = default;

    // Sequenced event: assigns the next per-room sequence number and the server time,
    // appends to history and fans out, as one atomic step; then calls `done`. A non-empty
    // `dedupe_key` that was published before yields `duplicate` with the original sequence
    // number and is neither stored nor delivered again. Otherwise the author's budget is
    // charged first; when it is spent the outcome is `rate_limited` and nothing is stored.
    virtual void publish(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                         AuthorLimit limit, PublishCallback done) = 0;

    // A sequenced moderation event together with the room state change it announces, as one
    // atomic step.
    virtual void publish_with_state(std::unique_ptr<v1::Event> event,
                                    moderation::StateChange change, PublishCallback done) = 0;
    // A room state change that nobody is told about (e.g. storing a held post).
    virtual void update_state(const std::string& room_id, moderation::StateChange change,
                              DoneCallback done) = 0;
    virtual void read_state(const std::string& room_id, StateCallback done) = 0;
    // Reads and removes one field of the room's state in one atomic step, so of two takers
    // (a moderator and a timeout, on two instances) exactly one gets the value.
    virtual void take_state_field(const std::string& room_id, const std::string& field,
                                  TakeCallback done) = 0;

    // The sequence number a dedupe key was published under: 0 when it was not (or was
    // forgotten), nothing when the broker could not be reached.
    virtual void find_duplicate(const std::string& room_id, const std::string& dedupe_key,
                                std::function<void(std::optional<std::uint64_t>)> done) = 0;

    // Records one person's flag on a post; `trusted` flags are the ones that can hide it.
    virtual void add_flag(const std::string& room_id, std::uint64_t seq, const std::string& subject,
                          bool trusted, FlagCallback done) = 0;
    // A present member by member id, across instances.
    virtual void find_member(const std::string& room_id, const std::string& member_id,
                             MemberCallback done) = 0;

    // Ephemeral event (presence, typing): fans out without a sequence number or history.
    virtual void publish_ephemeral(EventPtr event) = 0;

    virtual void read_history(HistoryQuery query, HistoryCallback done) = 0;

    // The sequence number of the last event of the room handed to the sink, so a reader of
    // history can tell where the live stream stands: events up to it were delivered already,
    // events after it will be, each once and in order. Nothing while that is not known yet.
    virtual std::optional<std::uint64_t> delivered_seq(const std::string& room_id) const = 0;

    // Adds a member to the room's presence unless it is at `capacity` (kNoCapacityLimit: never),
    // and announces it with a member_joined event. Member ids are unique per connection across
    // instances.
    virtual void add_member(const std::string& room_id, const v1::PresenceRecord& record,
                            std::uint32_t capacity, JoinCallback done) = 0;
    // Removes a member and announces it with a member_left event (once, even when the member
    // is removed twice, e.g. by its instance and by the cleanup of a dead instance).
    virtual void remove_member(const std::string& room_id, const v1::Member& member,
                               LeaveCallback done) = 0;
    // Everyone present in the room, with the presence version that shows, read at once.
    virtual void read_presence(const std::string& room_id, PresenceCallback done) = 0;

    // Whether the broker can take requests now (false while its backing service is down).
    // May be called from any thread.
    virtual bool healthy() const = 0;

    // Last step before the process exits, after every session has gone: release what this
    // instance holds in a shared broker. `done` runs when finished (or immediately).
    virtual void shutdown(std::function<void()> done) = 0;

    // ---- server-wide: called on shard 0 only ---------------------------------------------
    // A server-wide event (a global ban or unban, a room opened or closed at run time) with
    // its state change; every instance's on_global_event sees it. `done(false)`: not done (the
    // broker cannot be reached, or a StateChange::create found its field taken).
    virtual void publish_global(EventPtr event, moderation::StateChange change,
                                DoneCallback done) = 0;
    virtual void read_global_state(StateCallback done) = 0;
    // Stores an open item (a RESOLVED item closes the one it names) and hands it to every
    // instance's on_moderation_item.
    virtual void publish_moderation_item(const v1::ModerationItem& item) = 0;
    virtual void read_moderation_queue(QueueCallback done) = 0;
    // Tells every other instance's on_duty_report who is on duty here; not stored (each
    // instance reports again every third of the presence timeout). The embedded broker has
    // nobody to tell.
    virtual void publish_duty(const v1::DutyReport& report) = 0;
    // Makes `claim` (a CLAIMED item: the id, room, claimed_by, claimed_by_subject and
    // claimed_at_ms) the owner of that open item unless it has one, in one atomic step; a won
    // claim's fields are stored into the item and `claim` is published to every instance.
    virtual void claim_item(const v1::ModerationItem& claim, ClaimCallback done) = 0;
    // Raises an open, unclaimed item's escalation to `notice.escalation()` when it is lower,
    // in one atomic step, and publishes `notice` (an ESCALATED item): so each step is taken
    // once, by whichever instance comes first. Resolving an item forgets its claim and step.
    virtual void escalate_item(const v1::ModerationItem& notice, EscalateCallback done) = 0;
    // Marks an open item's author as gone (`notice`: an AUTHOR_LEFT item with left_at_ms)
    // unless it is marked already, in one atomic step: the mark is stored into the item and
    // `notice` published to every instance, so each alert's notice is sent once. The callback
    // says whether this call did it. Resolving an item forgets the mark.
    virtual void mark_author_left(const v1::ModerationItem& notice, EscalateCallback done) = 0;
    // Gives the caller the sending of an escalated item's webhook until `until_ms`, in one
    // atomic step, unless the item is closed or claimed, its webhook was sent, or another
    // instance holds it past `now_ms`. An instance that dies while sending thus leaves the
    // webhook to whichever instance asks once its hold has run out. Resolving forgets it.
    virtual void hold_webhook(const std::string& item_id, std::uint64_t now_ms,
                              std::uint64_t until_ms, EscalateCallback done) = 0;
    // The receiver took it: nobody sends it again.
    virtual void mark_webhook_sent(const std::string& item_id) = 0;
    // Someone who left right after a crisis post is waited for on their instance; the wait is
    // written here too, so that if that instance dies another takes it over. One entry per
    // room and subject (a second departure replaces the first), due at `takeover_ms`.
    virtual void record_departure(const moderation::Departure& gone, std::uint64_t takeover_ms) = 0;
    // The wait ended where it began: forgotten, unless a later departure replaced it.
    virtual void forget_departure(const moderation::Departure& gone) = 0;
    // A check-in conversation (moderation/check_in_threads.hpp, encoded), written down for the
    // instances that did not see it start: kept for `idle_ms` after it was last written. The
    // embedded broker has no other instance to tell: it keeps nothing and finds nothing.
    virtual void remember_check_in(const std::string& thread_id, const std::string& thread,
                                   std::uint64_t idle_ms) = 0;
    virtual void find_check_in(const std::string& thread_id, TakeCallback done) = 0;
    // Removes and returns up to `limit` waits due at `now_ms`: each one to exactly one caller.
    virtual void take_departures(std::uint64_t now_ms, std::uint32_t limit,
                                 DeparturesCallback done) = 0;
    // Remembers a signed-in person's roles (the higher of what was known and `seen`), for the
    // configured time since they were last seen.
    virtual void record_role(const std::string& subject, const KnownRole& seen) = 0;
    virtual void find_role(const std::string& subject, RoleCallback done) = 0;
    // The audit log: kept on purpose, see the README's privacy section.
    virtual void append_audit(v1::AuditEntry entry) = 0;
    // Newest first, older than `before_id` (empty: from the newest), only `room_id` when set.
    virtual void read_audit(std::string room_id, std::string before_id, std::uint32_t limit,
                            AuditCallback done) = 0;

    // A room closed at run time: what the broker keeps of it goes (its history at once; in
    // Redis its counters and state once the history's age limit has passed, so an event still
    // on its way finds its sequence).
    virtual void forget_room(const std::string& room_id) = 0;

    // While an instance has local members in a room it is subscribed to its events.
    virtual void subscribe(const std::string& room_id) = 0;
    virtual void unsubscribe(const std::string& room_id) = 0;
};

}  // namespace haven::broker
