// The Lua scripts that make each Redis step atomic. Every script that announces something
// (PUBLISH) does so inside the same step that changes the data, so every instance sees each
// room's events in one order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace haven::broker::redis {

struct Script {
    std::string_view source;
    std::string sha1;  // hex, for EVALSHA
};

// Sequence + append to the room's capped stream + remember the client message id + the
// moderation state change the event announces + PUBLISH.
// KEYS: seq, log, dedupe, state, author bucket. ARGV: event bytes (without seq and time),
// time_ms, max_events, min_time_ms, channel, dedupe_ttl_seconds, has_dedupe ("1"/"0"), state
// op ("set"/"del"/""), state field, state value, author posts per second (0 = no limit),
// author burst, clears history ("1": the event is history_cleared, and the log before it
// goes). Returns {2, 0, retry_after_ms} when the author's budget is spent.
// Returns {1, seq} when published, {0, original seq} for a duplicate.
const Script& publish_script();

// A page of history. KEYS: seq, log. ARGV: after_seq, before_seq, limit, newest ("1"/"0"),
// min_time_ms. Returns {last_seq, oldest_seq, has_more, event bytes...} oldest first.
const Script& history_script();

// KEYS: members hash, instance member set, presence version, handle keys hash. ARGV:
// member_id, member bytes, capacity, instance set entry, channel, member_joined event bytes
// (the script adds the new presence version), handle key "\0" subject. Returns {-1} already
// a member, {0} full, {-2} another person has the handle key, {1, presence version, member
// bytes...} joined.
const Script& join_script();

// KEYS: members hash, instance member set, presence version, handle keys hash. ARGV:
// member_id, instance set entry, channel, member_left event bytes (the script adds the new
// presence version).
// Returns the number of members left.
const Script& leave_script();

// KEYS: members hash, presence version. Returns {presence version, member bytes...}.
const Script& presence_script();

// Raises a person's remembered roles. KEYS: the person's role hash. ARGV: memory time in ms,
// then field / role number pairs (field "" = their own role, "room:<id>" = a grant).
const Script& record_role_script();

// One person's flag on a post. KEYS: the post's flag hash. ARGV: subject, ttl seconds.
// Returns 0 when this person flagged it already, else the number of distinct flaggers.
const Script& flag_script();

// A server-wide event and its state change. KEYS: global state hash. ARGV: op ("set", "del",
// "new": set only when absent), field, value, control channel, event bytes. Returns 1, or 0
// when "new" found the field taken (then nothing is published).
const Script& global_script();

// Stores (or, for a resolution, removes with its claim and step) an open moderation item and
// announces it. KEYS: open items, claims, escalation, authors gone and webhook hashes. ARGV: item
// id, item bytes, resolved ("1"/"0"), moderation channel.
const Script& moderation_item_script();

// Claims an open item unless it has an owner. KEYS: open items, claims. ARGV: item id, claim
// fields (serialized), moderation channel, the CLAIMED notice. Returns {0} (no such item),
// {1, item, claim} (won) or {2, item, their claim} (taken).
const Script& claim_item_script();

// Raises an open, unclaimed item's escalation step. KEYS: open items, claims, escalation.
// ARGV: item id, step, moderation channel, the ESCALATED notice. Returns 1 when it did.
const Script& escalate_item_script();
const Script& mark_author_left_script();
// Who sends an escalated item's webhook (Broker::hold_webhook). KEYS: open items, claims,
// webhooks. ARGV: item id, now, held until. Returns 1 when the caller holds it.
const Script& hold_webhook_script();
// KEYS: open items, webhooks. ARGV: item id.
const Script& webhook_sent_script();
// Waits for people who left after a crisis post (Broker::record_departure and the two
// after it). KEYS: due zset, departure times hash. ARGV: key, takeover time, left at / key,
// left at / now, limit (returns key, left at, ...).
const Script& record_departure_script();
const Script& forget_departure_script();
const Script& take_departures_script();
const Script& take_field_script();

// Removes a dead instance and its members, announcing member_left for each, exactly once
// even when several instances reap at the same time.
// KEYS: instances zset. ARGV: instance id, key prefix, time_ms. Returns members removed.
const Script& reap_script();

// Every script above, for loading them all when a connection comes up: an EVALSHA answered
// NOSCRIPT is sent again as EVAL, after commands pipelined behind it, which would reorder a
// step and a read that follows it.
std::vector<const Script*> all_scripts();

}  // namespace haven::broker::redis
