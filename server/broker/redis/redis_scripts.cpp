#include "broker/redis/redis_scripts.hpp"

#include <openssl/sha.h>

namespace haven::broker::redis {
namespace {

// Protobuf varints and length-delimited fields, so scripts can complete or build Event
// messages without a protobuf library: appending fields to a serialized message merges them.
constexpr std::string_view kProtobufHelpers = R"lua(
local function varint(n)
  local bytes = {}
  while n >= 128 do
    bytes[#bytes + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  bytes[#bytes + 1] = string.char(n)
  return table.concat(bytes)
end
local function field(tag, bytes)
  return string.char(tag) .. varint(#bytes) .. bytes
end
-- Field 1 of a serialized message when it comes first (protobuf writes fields in order):
-- the Member inside a stored PresenceRecord.
local function first_field(bytes)
  local length, shift, position = 0, 1, 2
  while true do
    local byte = string.byte(bytes, position)
    length = length + (byte % 128) * shift
    position = position + 1
    if byte < 128 then break end
    shift = shift * 128
  end
  return string.sub(bytes, position, position + length - 1)
end
-- ModerationItem.escalation (field 18, a varint) as serialized bytes.
local function escalation_field(step)
  return varint(18 * 8) .. varint(step)
end
-- Applies an optional change to a state hash: op is 'set', 'del' or ''.
local function change_state(hash, op, field, value)
  if op == 'set' or op == 'swap' then redis.call('HSET', hash, field, value)
  elseif op == 'del' then redis.call('HDEL', hash, field) end
end
-- Drops events past the age limit; entry fields are {'e', event, 't', time_ms}.
local function trim_by_age(log, min_time)
  for _ = 1, 64 do
    local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
    if #first == 0 or tonumber(first[1][2][4]) >= min_time then return end
    redis.call('XDEL', log, first[1][1])
  end
end
)lua";

constexpr std::string_view kPublish = R"lua(
-- A versioned field changes only from the version its writer saw (StateChange::swap).
if ARGV[8] == 'swap' then
  local stored = redis.call('HGET', KEYS[4], ARGV[9])
  local version = stored and string.match(stored, '^(%d+) ') or '0'
  if version ~= ARGV[14] then return {3, 0} end
end
if ARGV[7] == '1' then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {0, tonumber(seen)} end
end
-- The author's token bucket, shared by all their sessions everywhere (rate 0: no limit).
local rate, burst, now = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[2])
if rate > 0 then
  local bucket = redis.call('HMGET', KEYS[5], 'tokens', 'ms')
  local tokens = tonumber(bucket[1]) or burst
  local last = tonumber(bucket[2]) or now
  if now > last then tokens = math.min(burst, tokens + (now - last) / 1000 * rate) end
  if tokens < 1 then return {2, 0, math.ceil((1 - tokens) / rate * 1000)} end
  redis.call('HSET', KEYS[5], 'tokens', tokens - 1, 'ms', now)
  redis.call('PEXPIRE', KEYS[5], math.ceil(burst / rate * 1000) + 1000)
end
local seq = redis.call('INCR', KEYS[1])
-- Event.seq is field 2 and Event.time_ms field 3, both varints (tags 16 and 24).
local event = ARGV[1] .. '\16' .. varint(seq) .. '\24' .. varint(tonumber(ARGV[2]))
-- A history_cleared event replaces the room's history: it starts what is kept.
if ARGV[13] == '1' then redis.call('DEL', KEYS[2]) end
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], seq .. '-0', 'e', event, 't', ARGV[2])
trim_by_age(KEYS[2], tonumber(ARGV[4]))
if ARGV[7] == '1' then redis.call('SET', KEYS[3], seq, 'EX', ARGV[6]) end
change_state(KEYS[4], ARGV[8], ARGV[9], ARGV[10])
redis.call('PUBLISH', ARGV[5], event)
return {1, seq}
)lua";

constexpr std::string_view kHistory = R"lua(
trim_by_age(KEYS[2], tonumber(ARGV[5]))
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local oldest = 0
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #first > 0 then oldest = tonumber(string.match(first[1][1], '^(%d+)')) end
local after, before, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local low, high = '-', '+'
if after > 0 then low = (after + 1) .. '-0' end
if before > 0 then high = (before - 1) .. '-0' end
local rows = {}
if before == 1 or limit == 0 then
  rows = {}
elseif ARGV[4] == '1' then
  rows = redis.call('XREVRANGE', KEYS[2], high, low, 'COUNT', limit + 1)
else
  rows = redis.call('XRANGE', KEYS[2], low, high, 'COUNT', limit + 1)
end
local more = 0
if #rows > limit then
  more = 1
  rows[#rows] = nil
end
local out = {last, oldest, more}
if ARGV[4] == '1' then
  for i = #rows, 1, -1 do out[#out + 1] = rows[i][2][2] end
else
  for i = 1, #rows do out[#out + 1] = rows[i][2][2] end
end
return out
)lua";

constexpr std::string_view kJoin = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {-1} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return {0} end
-- Handle keys: ARGV[7] is "key\0subject". Another person with the same key is refused; the
-- same person (a second device) is not.
local key = string.match(ARGV[7], '^[^%z]*')
if key ~= '' then
  for _, held in ipairs(redis.call('HVALS', KEYS[4])) do
    if string.match(held, '^[^%z]*') == key and held ~= ARGV[7] then return {-2} end
  end
end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[7])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
local version = redis.call('INCR', KEYS[3])
-- Event.presence_version is field 4, a varint (tag 32).
redis.call('PUBLISH', ARGV[5], ARGV[6] .. '\32' .. varint(version))
local out = {1, version}
for _, member in ipairs(redis.call('HVALS', KEYS[1])) do out[#out + 1] = member end
return out
)lua";

constexpr std::string_view kLeave = R"lua(
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  local version = redis.call('INCR', KEYS[3])
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. '\32' .. varint(version))
end
return redis.call('HLEN', KEYS[1])
)lua";

constexpr std::string_view kPresence = R"lua(
local out = {tonumber(redis.call('GET', KEYS[2]) or '0')}
for _, member in ipairs(redis.call('HVALS', KEYS[1])) do out[#out + 1] = member end
return out
)lua";

constexpr std::string_view kReap = R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local prefix = ARGV[2]
local set = prefix .. 'instance:' .. ARGV[1] .. ':members'
local removed = 0
for _, entry in ipairs(redis.call('SMEMBERS', set)) do
  local sep = string.find(entry, '\n', 1, true)
  local room = string.sub(entry, 1, sep - 1)
  local member_id = string.sub(entry, sep + 1)
  local hash = prefix .. 'room:{' .. room .. '}:members'
  local record = redis.call('HGET', hash, member_id)
  if record then
    redis.call('HDEL', hash, member_id)
    redis.call('HDEL', prefix .. 'room:{' .. room .. '}:handles', member_id)
    removed = removed + 1
    local version = redis.call('INCR', prefix .. 'room:{' .. room .. '}:pver')
    -- Event{room_id = 1, time_ms = 3, presence_version = 4, member_left = 12 {member = 1}}
    local event = field(10, room) .. '\24' .. varint(tonumber(ARGV[3])) ..
                  '\32' .. varint(version) .. field(98, field(10, first_field(record)))
    redis.call('PUBLISH', prefix .. 'room:{' .. room .. '}', event)
  end
end
redis.call('DEL', set)
return removed
)lua";

constexpr std::string_view kRecordRole = R"lua(
for i = 2, #ARGV, 2 do
  local kept = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > kept then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
)lua";

constexpr std::string_view kFlag = R"lua(
local trusted = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return {0, trusted} end
if ARGV[3] == 't' then trusted = redis.call('INCR', KEYS[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if trusted > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return {redis.call('HLEN', KEYS[1]), trusted}
)lua";

constexpr std::string_view kGlobal = R"lua(
if ARGV[1] == 'new' then
  if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 0 then return 0 end
else
  change_state(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
)lua";

constexpr std::string_view kModerationItem = R"lua(
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
  redis.call('PUBLISH', ARGV[4], ARGV[2])
  return 1
end
-- Published again (one more flag): the item keeps its owner, its step and its author's
-- departure. Appending fields to a serialized message sets them (protobuf merges what
-- follows).
local item = ARGV[2] .. (redis.call('HGET', KEYS[2], ARGV[1]) or '')
  .. (redis.call('HGET', KEYS[4], ARGV[1]) or '')
local step = redis.call('HGET', KEYS[3], ARGV[1])
if step then item = item .. escalation_field(tonumber(step)) end
redis.call('HSET', KEYS[1], ARGV[1], item)
redis.call('PUBLISH', ARGV[4], item)
return 1
)lua";

constexpr std::string_view kClaimItem = R"lua(
local item = redis.call('HGET', KEYS[1], ARGV[1])
if not item then return {0} end
local holder = redis.call('HGET', KEYS[2], ARGV[1])
if holder then return {2, item, holder} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
item = item .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], item)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {1, item, ARGV[2]}
)lua";

constexpr std::string_view kEscalateItem = R"lua(
local item = redis.call('HGET', KEYS[1], ARGV[1])
if not item or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
local step = tonumber(ARGV[2])
if tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') >= step then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], step)
redis.call('HSET', KEYS[1], ARGV[1], item .. escalation_field(step))
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
)lua";

// KEYS: a state hash; ARGV: the field. Its value, removed, or nil.
constexpr std::string_view kTakeField = R"lua(
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then redis.call('HDEL', KEYS[1], ARGV[1]) end
return value
)lua";

// KEYS: open items, authors gone; ARGV: item id, the mark (left_at_ms, serialized), the
// moderation channel, the notice.
constexpr std::string_view kMarkAuthorLeft = R"lua(
local item = redis.call('HGET', KEYS[1], ARGV[1])
if not item then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], item .. ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
)lua";

// KEYS: open items, claims, webhooks; ARGV: item id, now (ms), held until (ms). A webhook's
// field is "sent" or the time its holder's hold ends.
constexpr std::string_view kHoldWebhook = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1
then return 0 end
local held = redis.call('HGET', KEYS[3], ARGV[1])
if held == 'sent' or (held and tonumber(held) > tonumber(ARGV[2])) then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 1
)lua";

// KEYS: open items, webhooks; ARGV: item id.
constexpr std::string_view kWebhookSent = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[2], ARGV[1], 'sent') end
return 1
)lua";

// Waits for people who left after a crisis post. KEYS: due zset, departure times hash; the
// member and field are the wait's key (room and subject).
// ARGV: key, takeover time, left at.
constexpr std::string_view kRecordDeparture = R"lua(
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
)lua";

// ARGV: key, left at. Only the departure that was recorded is forgotten.
constexpr std::string_view kForgetDeparture = R"lua(
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
)lua";

// ARGV: now, limit. Returns {key, left at, key, left at, ...}, each taken out.
constexpr std::string_view kTakeDepartures = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local taken = {}
for _, key in ipairs(due) do
  taken[#taken + 1] = key
  taken[#taken + 1] = redis.call('HGET', KEYS[2], key) or '0'
  redis.call('ZREM', KEYS[1], key)
  redis.call('HDEL', KEYS[2], key)
end
return taken
)lua";

std::string hex_sha1(std::string_view text) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char byte : digest) {
        out.push_back(kHex[byte >> 4]);
        out.push_back(kHex[byte & 15]);
    }
    return out;
}

struct OwnedScript {
    explicit OwnedScript(std::string_view body)
        : text(std::string(kProtobufHelpers) + std::string(body)) {
        script.source = text;
        script.sha1 = hex_sha1(text);
    }
    std::string text;
    Script script;
};

}  // namespace

const Script& publish_script() {
    static const OwnedScript owned(kPublish);
    return owned.script;
}
const Script& history_script() {
    static const OwnedScript owned(kHistory);
    return owned.script;
}
const Script& join_script() {
    static const OwnedScript owned(kJoin);
    return owned.script;
}
const Script& leave_script() {
    static const OwnedScript owned(kLeave);
    return owned.script;
}
const Script& presence_script() {
    static const OwnedScript owned(kPresence);
    return owned.script;
}
const Script& record_role_script() {
    static const OwnedScript owned(kRecordRole);
    return owned.script;
}
const Script& flag_script() {
    static const OwnedScript owned(kFlag);
    return owned.script;
}
const Script& global_script() {
    static const OwnedScript owned(kGlobal);
    return owned.script;
}
const Script& moderation_item_script() {
    static const OwnedScript owned(kModerationItem);
    return owned.script;
}
const Script& claim_item_script() {
    static const OwnedScript owned(kClaimItem);
    return owned.script;
}
const Script& escalate_item_script() {
    static const OwnedScript owned(kEscalateItem);
    return owned.script;
}
const Script& mark_author_left_script() {
    static const OwnedScript owned(kMarkAuthorLeft);
    return owned.script;
}
const Script& hold_webhook_script() {
    static const OwnedScript owned(kHoldWebhook);
    return owned.script;
}
const Script& webhook_sent_script() {
    static const OwnedScript owned(kWebhookSent);
    return owned.script;
}
const Script& record_departure_script() {
    static const OwnedScript owned(kRecordDeparture);
    return owned.script;
}
const Script& forget_departure_script() {
    static const OwnedScript owned(kForgetDeparture);
    return owned.script;
}
const Script& take_departures_script() {
    static const OwnedScript owned(kTakeDepartures);
    return owned.script;
}
const Script& take_field_script() {
    static const OwnedScript owned(kTakeField);
    return owned.script;
}
const Script& reap_script() {
    static const OwnedScript owned(kReap);
    return owned.script;
}

std::vector<const Script*> all_scripts() {
    return {&publish_script(),
            &history_script(),
            &join_script(),
            &leave_script(),
            &presence_script(),
            &record_role_script(),
            &flag_script(),
            &global_script(),
            &moderation_item_script(),
            &claim_item_script(),
            &escalate_item_script(),
            &mark_author_left_script(),
            &hold_webhook_script(),
            &webhook_sent_script(),
            &record_departure_script(),
            &forget_departure_script(),
            &take_departures_script(),
            &take_field_script(),
            &reap_script()};
}

}  // namespace haven::broker::redis
