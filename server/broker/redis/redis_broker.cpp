// The Broker over Redis (scripts in redis_scripts.cpp). Over 400 lines: every Broker operation,
// each a short command or script call, beside the subscription and catch-up they share.
#include "broker/redis/redis_broker.hpp"

#include <algorithm>
#include <charconv>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "broker/redis/redis_scripts.hpp"
#include "core/clock.hpp"
#include "core/length_prefixed.hpp"

namespace haven::broker::redis {
namespace {

constexpr std::size_t kMaxHeldEvents = 10'000;
constexpr std::uint32_t kCatchUpPage = 500;

std::string_view as_view(const redisReply* reply) {
    return std::string_view(reply->str, reply->len);
}

bool is_array(const redisReply* reply, std::size_t at_least) {
    return reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements >= at_least;
}

std::int64_t integer_at(const redisReply* reply, std::size_t index) {
    const redisReply* element = reply->element[index];
    if (element->type == REDIS_REPLY_INTEGER) return element->integer;
    if (element->type == REDIS_REPLY_STRING) {
        try {
            return std::stoll(std::string(as_view(element)));
        } catch (const std::exception&) {
        }
    }
    return 0;
}

std::string event_bytes(const v1::Event& event) {
    return event.SerializeAsString();
}

std::string state_op(const moderation::StateChange& change) {
    switch (change.op) {
        case moderation::StateChange::Op::set:
            return "set";
        case moderation::StateChange::Op::erase:
            return "del";
        case moderation::StateChange::Op::create:
            return "new";
        case moderation::StateChange::Op::swap:
            return "swap";
        case moderation::StateChange::Op::none:
            break;
    }
    return "";
}

// The members in stored PresenceRecords, from element `first` of a script's reply on.
// The members among stored PresenceRecords from element `first` on (and, when asked, whose
// sessions they are).
std::vector<v1::Member> members_from(const redisReply* reply, std::size_t first,
                                     std::vector<std::string>* subjects = nullptr) {
    std::vector<v1::Member> members;
    members.reserve(reply->elements > first ? reply->elements - first : 0);
    for (std::size_t i = first; i < reply->elements; ++i) {
        const redisReply* bytes = reply->element[i];
        v1::PresenceRecord present;
        if (bytes->type == REDIS_REPLY_STRING &&
            present.ParseFromArray(bytes->str, static_cast<int>(bytes->len))) {
            members.push_back(std::move(*present.mutable_member()));
            if (subjects != nullptr) subjects->push_back(std::move(*present.mutable_subject()));
        }
    }
    return members;
}

v1::Event presence_event(const std::string& room_id, const v1::Member& member, bool joined) {
    v1::Event event;
    event.set_room_id(room_id);
    event.set_time_ms(core::wall_ms());
    if (joined) {
        *event.mutable_member_joined()->mutable_member() = member;
    } else {
        *event.mutable_member_left()->mutable_member() = member;
    }
    return event;
}

}  // namespace

RedisBroker::RedisBroker(boost::asio::io_context& io, RedisBrokerOptions options, BrokerSink& sink,
                         core::ShardCounters& counters)
    : io_(io),
      options_(std::move(options)),
      sink_(sink),
      counters_(counters),
      commands_(io, options_.endpoint, "commands", counters),
      subscriber_(io, options_.endpoint, "subscriber", counters),
      heartbeat_timer_(io) {
    commands_.on_state_change([this](bool up) {
        update_health();
        if (!up) return;
        // First on the new connection, so every EVALSHA after it finds its script.
        for (const Script* script : all_scripts()) {
            commands_.command({"SCRIPT", "LOAD", std::string(script->source)},
                              [](const redisReply*) {});
        }
        if (options_.keeps_instance_alive) heartbeat();
        auto removals = std::move(pending_removals_);
        pending_removals_.clear();
        for (auto& [room_id, member] : removals) remove_member(room_id, member, [](auto) {});
    });
    subscriber_.on_push([this](const redisReply* reply) { on_push(reply); });
    subscriber_.on_state_change([this](bool up) {
        for (auto& [room_id, stream] : streams_) stream.subscribed = false;
        server_wide_subscribed_ = false;
        if (up) {
            std::vector<std::string> args{"SUBSCRIBE"};
            // Shard 0 also hears the server-wide channels for the whole instance.
            if (options_.keeps_instance_alive) {
                args.push_back(global_key("control"));
                args.push_back(global_key("duty"));
                // Last: health waits for its confirmation (on_push).
                args.push_back(global_key("moderation"));
            }
            for (const auto& [room_id, stream] : streams_) args.push_back(channel(room_id));
            if (args.size() > 1) subscriber_.subscription_command(args);
        }
        update_health();
    });
}

RedisBroker::~RedisBroker() {
    *alive_ = false;
}

void RedisBroker::start() {
    commands_.start();
    subscriber_.start();
}

void RedisBroker::stop() {
    heartbeat_timer_.cancel();
    commands_.stop();
    subscriber_.stop();
}

void RedisBroker::shutdown(std::function<void()> done) {
    heartbeat_timer_.cancel();
    if (!options_.keeps_instance_alive || !commands_.connected()) return done();
    // Reaping ourselves removes whatever presence this instance still holds (announcing each
    // departure once) and takes the instance off the heartbeat list.
    eval(reap_script(), {options_.key_prefix + "instances"},
         {options_.instance_id, options_.key_prefix, std::to_string(core::wall_ms())},
         [done = std::move(done)](const redisReply*) { done(); });
}

std::string RedisBroker::key(std::string_view room_id, std::string_view suffix) const {
    std::string out = options_.key_prefix;
    out += "room:{";
    out += room_id;
    out += '}';
    out += suffix;
    return out;
}

std::string RedisBroker::channel(std::string_view room_id) const {
    return key(room_id, "");
}

std::string RedisBroker::instance_members_key() const {
    return options_.key_prefix + "instance:" + options_.instance_id + ":members";
}

void RedisBroker::eval(const Script& script, std::vector<std::string> keys,
                       std::vector<std::string> args, RedisConnection::ReplyHandler done) {
    std::vector<std::string> command{"EVALSHA", script.sha1, std::to_string(keys.size())};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    commands_.command(command, [this, alive = alive_, &script, command,
                                done = std::move(done)](const redisReply* reply) mutable {
        const bool unknown_script = reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
                                    as_view(reply).substr(0, 8) == "NOSCRIPT";
        if (!unknown_script || !*alive) return done(reply);
        // First use since Redis started: send the source once; Redis caches it.
        command[0] = "EVAL";
        command[1] = std::string(script.source);
        commands_.command(command, std::move(done));
    });
}

void RedisBroker::publish(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                          AuthorLimit limit, PublishCallback done) {
    publish_sequenced(std::move(event), std::move(dedupe_key), limit, {}, std::move(done));
}

void RedisBroker::publish_with_state(std::unique_ptr<v1::Event> event,
                                     moderation::StateChange change, PublishCallback done) {
    publish_sequenced(std::move(event), {}, {}, change, std::move(done));
}

void RedisBroker::publish_sequenced(std::unique_ptr<v1::Event> event, std::string dedupe_key,
                                    const AuthorLimit& limit, const moderation::StateChange& change,
                                    PublishCallback done) {
    const bool limited = !limit.subject.empty() && limit.per_second > 0;
    const std::string room_id = event->room_id();
    const std::uint64_t now = core::wall_ms();
    const std::uint64_t max_age_ms = std::uint64_t{options_.retention.max_age_seconds} * 1000;
    const bool has_dedupe = !dedupe_key.empty();
    eval(publish_script(),
         {key(room_id, ":seq"), key(room_id, ":log"),
          key(room_id, has_dedupe ? ":dedupe:" + dedupe_key : ":dedupe"), key(room_id, ":state"),
          global_key("user:" + (limited ? limit.subject : std::string()) + ":posts")},
         {event_bytes(*event), std::to_string(now), std::to_string(options_.retention.max_events),
          std::to_string(now > max_age_ms ? now - max_age_ms : 0), channel(room_id),
          std::to_string(options_.retention.max_age_seconds), has_dedupe ? "1" : "0",
          state_op(change), change.field, change.value,
          limited ? std::to_string(limit.per_second) : "0", std::to_string(limit.burst),
          event->has_history_cleared() ? "1" : "0", std::to_string(change.expected)},
         [done = std::move(done)](const redisReply* reply) {
             if (!is_array(reply, 2)) return done({PublishOutcome::Status::unavailable, 0});
             switch (integer_at(reply, 0)) {
                 case 1:
                     return done({PublishOutcome::Status::published,
                                  static_cast<std::uint64_t>(integer_at(reply, 1))});
                 case 2:
                     return done({PublishOutcome::Status::rate_limited, 0,
                                  static_cast<std::uint32_t>(
                                      reply->elements > 2 ? integer_at(reply, 2) : 1000)});
                 case 3:
                     return done({PublishOutcome::Status::conflict, 0});
                 default:
                     return done({PublishOutcome::Status::duplicate,
                                  static_cast<std::uint64_t>(integer_at(reply, 1))});
             }
         });
}

void RedisBroker::update_state(const std::string& room_id, moderation::StateChange change,
                               DoneCallback done) {
    std::vector<std::string> command;
    if (change.op == moderation::StateChange::Op::set) {
        command = {"HSET", key(room_id, ":state"), change.field, change.value};
    } else if (change.op == moderation::StateChange::Op::erase) {
        command = {"HDEL", key(room_id, ":state"), change.field};
    } else {
        return done(true);
    }
    commands_.command(command, [done = std::move(done)](const redisReply* reply) {
        done(reply != nullptr && reply->type != REDIS_REPLY_ERROR);
    });
}

void RedisBroker::read_hash(const std::string& hash, StateCallback done) {
    commands_.command({"HGETALL", hash}, [done = std::move(done)](const redisReply* reply) {
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return done(std::nullopt);
        moderation::StateFields fields;
        for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
            fields.emplace(std::string(as_view(reply->element[i])),
                           std::string(as_view(reply->element[i + 1])));
        }
        done(std::move(fields));
    });
}

void RedisBroker::read_state(const std::string& room_id, StateCallback done) {
    read_hash(key(room_id, ":state"), std::move(done));
}

void RedisBroker::take_state_field(const std::string& room_id, const std::string& field,
                                   TakeCallback done) {
    eval(take_field_script(), {key(room_id, ":state")}, {field},
         [done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) return done(std::nullopt);
             if (reply->type != REDIS_REPLY_STRING) return done(std::optional<std::string>());
             done(std::optional<std::string>(std::string(as_view(reply))));
         });
}

void RedisBroker::find_duplicate(const std::string& room_id, const std::string& dedupe_key,
                                 std::function<void(std::optional<std::uint64_t>)> done) {
    commands_.command({"GET", key(room_id, ":dedupe:" + dedupe_key)},
                      [done = std::move(done)](const redisReply* reply) {
                          if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
                              return done(std::nullopt);
                          }
                          if (reply->type != REDIS_REPLY_STRING) return done(0);
                          try {
                              done(std::stoull(std::string(as_view(reply))));
                          } catch (const std::exception&) {
                              done(0);
                          }
                      });
}

void RedisBroker::add_flag(const std::string& room_id, std::uint64_t seq,
                           const std::string& subject, bool trusted, FlagCallback done) {
    const std::string flags = key(room_id, ":flags:" + std::to_string(seq));
    eval(flag_script(), {flags, flags + ":trusted"},
         {subject, std::to_string(options_.retention.max_age_seconds), trusted ? "t" : "u"},
         [done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
                 reply->element[0]->type != REDIS_REPLY_INTEGER ||
                 reply->element[1]->type != REDIS_REPLY_INTEGER) {
                 return done(std::nullopt);
             }
             done(FlagCount{static_cast<std::uint32_t>(reply->element[0]->integer),
                            static_cast<std::uint32_t>(reply->element[1]->integer)});
         });
}

void RedisBroker::find_member(const std::string& room_id, const std::string& member_id,
                              MemberCallback done) {
    commands_.command({"HGET", key(room_id, ":members"), member_id},
                      [done = std::move(done)](const redisReply* reply) {
                          if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
                              return done(std::nullopt);
                          }
                          v1::PresenceRecord record;
                          if (reply->type == REDIS_REPLY_STRING) {
                              record.ParseFromArray(reply->str, static_cast<int>(reply->len));
                          }
                          done(std::move(record));
                      });
}

void RedisBroker::publish_global(EventPtr event, moderation::StateChange change,
                                 DoneCallback done) {
    eval(global_script(), {global_key("global")},
         {state_op(change), change.field, change.value, global_key("control"), event_bytes(*event)},
         [done = std::move(done)](const redisReply* reply) {
             done(reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
         });
}

void RedisBroker::read_global_state(StateCallback done) {
    read_hash(global_key("global"), std::move(done));
}

void RedisBroker::publish_duty(const v1::DutyReport& report) {
    // Lost while Redis is away: the next report, a third of the timeout later, says it again.
    commands_.command({"PUBLISH", global_key("duty"), report.SerializeAsString()},
                      [](const redisReply*) {});
}

void RedisBroker::publish_moderation_item(const v1::ModerationItem& item) {
    const bool resolved = item.kind() == v1::ModerationItem::RESOLVED;
    eval(moderation_item_script(),
         {global_key("moderation:open"), global_key("moderation:claims"),
          global_key("moderation:escalation"), global_key("moderation:left"),
          global_key("moderation:webhook")},
         {item.id(), item.SerializeAsString(), resolved ? "1" : "0", global_key("moderation")},
         [](const redisReply*) {});
}

void RedisBroker::claim_item(const v1::ModerationItem& claim, ClaimCallback done) {
    eval(claim_item_script(), {global_key("moderation:open"), global_key("moderation:claims")},
         {claim.id(), claim_fields(claim).SerializeAsString(), global_key("moderation"),
          claim.SerializeAsString()},
         [done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
                 reply->element[0]->type != REDIS_REPLY_INTEGER) {
                 return done(std::nullopt);
             }
             ClaimOutcome outcome;
             if (reply->element[0]->integer == 0) return done(outcome);
             if (reply->elements != 3) return done(std::nullopt);
             outcome.kind = reply->element[0]->integer == 1 ? ClaimOutcome::Kind::won
                                                            : ClaimOutcome::Kind::taken;
             const redisReply* item = reply->element[1];
             const redisReply* holder = reply->element[2];
             if (item->type != REDIS_REPLY_STRING || holder->type != REDIS_REPLY_STRING ||
                 !outcome.item.ParseFromArray(item->str, static_cast<int>(item->len)) ||
                 !outcome.claim.ParseFromArray(holder->str, static_cast<int>(holder->len))) {
                 return done(std::nullopt);
             }
             done(std::move(outcome));
         });
}

void RedisBroker::escalate_item(const v1::ModerationItem& notice, EscalateCallback done) {
    eval(escalate_item_script(),
         {global_key("moderation:open"), global_key("moderation:claims"),
          global_key("moderation:escalation")},
         {notice.id(), std::to_string(notice.escalation()), global_key("moderation"),
          notice.SerializeAsString()},
         [done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) return done(std::nullopt);
             done(reply->integer == 1);
         });
}

void RedisBroker::mark_author_left(const v1::ModerationItem& notice, EscalateCallback done) {
    v1::ModerationItem mark;
    mark.set_left_at_ms(notice.left_at_ms());
    eval(mark_author_left_script(), {global_key("moderation:open"), global_key("moderation:left")},
         {notice.id(), mark.SerializeAsString(), global_key("moderation"),
          notice.SerializeAsString()},
         [done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) return done(std::nullopt);
             done(reply->integer == 1);
         });
}

void RedisBroker::hold_webhook(const std::string& item_id, std::uint64_t now_ms,
                               std::uint64_t until_ms, EscalateCallback done) {
    eval(hold_webhook_script(),
         {global_key("moderation:open"), global_key("moderation:claims"),
          global_key("moderation:webhook")},
         {item_id, std::to_string(now_ms), std::to_string(until_ms)},
         [done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) return done(std::nullopt);
             done(reply->integer == 1);
         });
}

void RedisBroker::mark_webhook_sent(const std::string& item_id) {
    eval(webhook_sent_script(), {global_key("moderation:open"), global_key("moderation:webhook")},
         {item_id}, [](const redisReply*) {});
}

namespace {

// A wait's key: the room, then the subject (which may hold any character).
std::string departure_key(const moderation::Departure& gone) {
    std::string key;
    core::put_length_prefixed(key, gone.room_id);
    return key + gone.subject;
}

std::optional<moderation::Departure> departure_of(std::string_view key, std::string_view left) {
    const std::optional<std::string_view> room = core::take_length_prefixed(key);
    if (!room) return std::nullopt;
    moderation::Departure gone;
    gone.room_id = std::string(*room);
    gone.subject = std::string(key);
    if (std::from_chars(left.data(), left.data() + left.size(), gone.left_at_ms).ec !=
        std::errc{}) {
        return std::nullopt;
    }
    return gone;
}

}  // namespace

void RedisBroker::record_departure(const moderation::Departure& gone, std::uint64_t takeover_ms) {
    eval(record_departure_script(), {global_key("followups"), global_key("followups:left")},
         {departure_key(gone), std::to_string(takeover_ms), std::to_string(gone.left_at_ms)},
         [](const redisReply*) {});
}

void RedisBroker::forget_departure(const moderation::Departure& gone) {
    eval(forget_departure_script(), {global_key("followups"), global_key("followups:left")},
         {departure_key(gone), std::to_string(gone.left_at_ms)}, [](const redisReply*) {});
}

void RedisBroker::take_departures(std::uint64_t now_ms, std::uint32_t limit,
                                  DeparturesCallback done) {
    eval(take_departures_script(), {global_key("followups"), global_key("followups:left")},
         {std::to_string(now_ms), std::to_string(limit)},
         [done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return done(std::nullopt);
             std::vector<moderation::Departure> taken;
             for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
                 const redisReply* key = reply->element[i];
                 const redisReply* left = reply->element[i + 1];
                 if (key->type != REDIS_REPLY_STRING || left->type != REDIS_REPLY_STRING) continue;
                 if (auto gone = departure_of({key->str, key->len}, {left->str, left->len})) {
                     taken.push_back(std::move(*gone));
                 }
             }
             done(std::move(taken));
         });
}

void RedisBroker::remember_check_in(const std::string& thread_id, const std::string& thread,
                                    std::uint64_t idle_ms) {
    commands_.command({"SET", global_key("checkin:" + thread_id), thread, "PX",
                       std::to_string(std::max<std::uint64_t>(idle_ms, 1))},
                      [](const redisReply*) {});
}

void RedisBroker::find_check_in(const std::string& thread_id, TakeCallback done) {
    commands_.command({"GET", global_key("checkin:" + thread_id)},
                      [done = std::move(done)](const redisReply* reply) {
                          if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
                              return done(std::nullopt);
                          }
                          if (reply->type != REDIS_REPLY_STRING) {
                              return done(std::optional<std::string>());
                          }
                          done(std::optional<std::string>(std::string(as_view(reply))));
                      });
}

void RedisBroker::read_moderation_queue(QueueCallback done) {
    commands_.command({"HVALS", global_key("moderation:open")},
                      [done = std::move(done)](const redisReply* reply) {
                          if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
                              return done(std::nullopt);
                          }
                          std::vector<v1::ModerationItem> items;
                          for (std::size_t i = 0; i < reply->elements; ++i) {
                              v1::ModerationItem item;
                              const redisReply* bytes = reply->element[i];
                              if (item.ParseFromArray(bytes->str, static_cast<int>(bytes->len))) {
                                  items.push_back(std::move(item));
                              }
                          }
                          std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
                              return a.time_ms() < b.time_ms();
                          });
                          done(std::move(items));
                      });
}

void RedisBroker::append_audit(v1::AuditEntry entry) {
    commands_.command({"XADD", global_key("audit"), "MAXLEN", "~", "1000000", "*", "e",
                       entry.SerializeAsString()},
                      [](const redisReply* reply) {
                          if (reply == nullptr) spdlog::warn("audit entry not stored: Redis down");
                      });
}

void RedisBroker::read_audit(std::string room_id, std::string before_id, std::uint32_t limit,
                             AuditCallback done) {
    // Reads a bounded window and filters by room here: the log is one stream for the server.
    constexpr std::uint32_t kWindow = 2000;
    commands_.command({"XREVRANGE", global_key("audit"), before_id.empty() ? "+" : "(" + before_id,
                       "-", "COUNT", std::to_string(kWindow)},
                      [room_id, limit, done = std::move(done)](const redisReply* reply) {
                          if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY)
                              return done(std::nullopt);
                          v1::AuditPage page;
                          for (std::size_t i = 0; i < reply->elements; ++i) {
                              const redisReply* entry = reply->element[i];
                              if (!is_array(entry, 2) || !is_array(entry->element[1], 2)) continue;
                              v1::AuditEntry parsed;
                              const redisReply* bytes = entry->element[1]->element[1];
                              if (!parsed.ParseFromArray(bytes->str, static_cast<int>(bytes->len)))
                                  continue;
                              if (!room_id.empty() && parsed.room_id() != room_id) continue;
                              if (page.entries_size() == static_cast<int>(limit)) {
                                  page.set_has_more(true);
                                  break;
                              }
                              parsed.set_id(std::string(as_view(entry->element[0])));
                              *page.add_entries() = std::move(parsed);
                          }
                          done(std::move(page));
                      });
}

void RedisBroker::publish_ephemeral(EventPtr event) {
    // Live-only events are best effort: while Redis is down they are simply not seen.
    commands_.command({"PUBLISH", channel(event->room_id()), event_bytes(*event)},
                      [](const redisReply*) {});
}

void RedisBroker::read_history(HistoryQuery query, HistoryCallback done) {
    const std::string room_id = query.room_id;
    read_range(std::move(query),
               [this, alive = alive_, room_id, done = std::move(done)](HistorySlice slice) {
                   if (*alive && slice.ok) {
                       // The first read after subscribing tells where delivery to this instance
                       // starts: events up to here are in the snapshot the joiner receives.
                       auto found = streams_.find(room_id);
                       if (found != streams_.end() && !found->second.last_seq) {
                           found->second.last_seq = slice.last_seq;
                           if (found->second.subscribed) catch_up(room_id);
                       }
                   }
                   done(std::move(slice));
               });
}

void RedisBroker::read_range(HistoryQuery query, HistoryCallback done) {
    const std::uint64_t now = core::wall_ms();
    const std::uint64_t max_age_ms = std::uint64_t{options_.retention.max_age_seconds} * 1000;
    const std::uint64_t after = query.after_seq;
    eval(history_script(), {key(query.room_id, ":seq"), key(query.room_id, ":log")},
         {std::to_string(query.after_seq), std::to_string(query.before_seq),
          std::to_string(query.limit), query.newest ? "1" : "0",
          std::to_string(now > max_age_ms ? now - max_age_ms : 0)},
         [after, done = std::move(done)](const redisReply* reply) {
             HistorySlice slice;
             if (!is_array(reply, 3)) return done(std::move(slice));
             slice.ok = true;
             slice.last_seq = static_cast<std::uint64_t>(integer_at(reply, 0));
             slice.oldest_seq = static_cast<std::uint64_t>(integer_at(reply, 1));
             slice.has_more = integer_at(reply, 2) == 1;
             for (std::size_t i = 3; i < reply->elements; ++i) {
                 auto event = std::make_shared<v1::Event>();
                 const redisReply* bytes = reply->element[i];
                 if (bytes->type != REDIS_REPLY_STRING ||
                     !event->ParseFromArray(bytes->str, static_cast<int>(bytes->len))) {
                     continue;  // cannot happen for entries this code wrote
                 }
                 slice.events.push_back(std::move(event));
             }
             slice.complete = slice.oldest_seq == 0
                                  ? after >= slice.last_seq
                                  : after + 1 >= slice.oldest_seq && after <= slice.last_seq;
             done(std::move(slice));
         });
}

void RedisBroker::add_member(const std::string& room_id, const v1::PresenceRecord& record,
                             std::uint32_t capacity, JoinCallback done) {
    const v1::Member& member = record.member();
    std::string held_key = record.handle_key();
    held_key += '\0';
    held_key += record.subject();
    eval(join_script(),
         {key(room_id, ":members"), instance_members_key(), key(room_id, ":pver"),
          key(room_id, ":handles")},
         {member.member_id(), record.SerializeAsString(), std::to_string(capacity),
          room_id + '\n' + member.member_id(), channel(room_id),
          event_bytes(presence_event(room_id, member, true)), std::move(held_key)},
         [done = std::move(done)](const redisReply* reply) {
             JoinOutcome outcome;
             if (!is_array(reply, 1)) return done(std::move(outcome));
             switch (integer_at(reply, 0)) {
                 case -1:
                     outcome.status = JoinOutcome::Status::already_member;
                     return done(std::move(outcome));
                 case 0:
                     outcome.status = JoinOutcome::Status::full;
                     return done(std::move(outcome));
                 case -2:
                     outcome.status = JoinOutcome::Status::handle_taken;
                     return done(std::move(outcome));
                 default:
                     break;
             }
             if (!is_array(reply, 2)) return done(std::move(outcome));
             outcome.status = JoinOutcome::Status::joined;
             outcome.presence_version = static_cast<std::uint64_t>(integer_at(reply, 1));
             outcome.members = members_from(reply, 2);
             done(std::move(outcome));
         });
}

void RedisBroker::remove_member(const std::string& room_id, const v1::Member& member,
                                LeaveCallback done) {
    eval(leave_script(),
         {key(room_id, ":members"), instance_members_key(), key(room_id, ":pver"),
          key(room_id, ":handles")},
         {member.member_id(), room_id + '\n' + member.member_id(), channel(room_id),
          event_bytes(presence_event(room_id, member, false))},
         [this, alive = alive_, room_id, member, done = std::move(done)](const redisReply* reply) {
             if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) {
                 if (*alive) pending_removals_.emplace_back(room_id, member);
                 return done(std::nullopt);
             }
             done(static_cast<std::uint32_t>(reply->integer));
         });
}

void RedisBroker::record_role(const std::string& subject, const KnownRole& seen) {
    // One hash per person: field "" is their own role, "room:<id>" a grant; values are the
    // role numbers, only ever raised, and the whole expires after the memory time.
    std::vector<std::string> args{std::to_string(options_.role_memory.count()), "",
                                  std::to_string(static_cast<int>(seen.role))};
    for (const auto& [room, role] : seen.room_roles) {
        args.push_back("room:" + room);
        args.push_back(std::to_string(static_cast<int>(role)));
    }
    eval(record_role_script(), {global_key("role:{" + subject + "}")}, std::move(args),
         [](const redisReply*) {});
}

void RedisBroker::find_role(const std::string& subject, RoleCallback done) {
    commands_.command({"HGETALL", global_key("role:{" + subject + "}")},
                      [done = std::move(done)](const redisReply* reply) {
                          RoleLookup lookup;
                          if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY)
                              return done(lookup);
                          lookup.ok = true;
                          if (reply->elements == 0) return done(lookup);
                          KnownRole known;
                          for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
                              const std::string_view field = as_view(reply->element[i]);
                              const auto role = static_cast<v1::Role>(integer_at(reply, i + 1));
                              if (!v1::Role_IsValid(role)) continue;
                              if (field.empty()) {
                                  known.role = role;
                              } else if (field.substr(0, 5) == "room:") {
                                  known.room_roles[std::string(field.substr(5))] = role;
                              }
                          }
                          lookup.known = std::move(known);
                          done(std::move(lookup));
                      });
}

void RedisBroker::read_presence(const std::string& room_id, PresenceCallback done) {
    eval(presence_script(), {key(room_id, ":members"), key(room_id, ":pver")}, {},
         [done = std::move(done)](const redisReply* reply) {
             if (!is_array(reply, 1)) return done(std::nullopt);
             PresenceSnapshot snapshot;
             snapshot.version = static_cast<std::uint64_t>(integer_at(reply, 0));
             snapshot.members = members_from(reply, 1, &snapshot.subjects);
             done(std::move(snapshot));
         });
}

std::optional<std::uint64_t> RedisBroker::delivered_seq(const std::string& room_id) const {
    auto found = streams_.find(room_id);
    if (found == streams_.end()) return std::nullopt;
    return found->second.last_seq;
}

void RedisBroker::subscribe(const std::string& room_id) {
    auto [it, inserted] = streams_.try_emplace(room_id);
    if (inserted) {
        it->second.generation = ++stream_generations_;
        subscriber_.subscription_command({"SUBSCRIBE", channel(room_id)});
    }
}

void RedisBroker::unsubscribe(const std::string& room_id) {
    if (streams_.erase(room_id) != 0) {
        subscriber_.subscription_command({"UNSUBSCRIBE", channel(room_id)});
    }
}

void RedisBroker::on_push(const redisReply* reply) {
    if (!is_array(reply, 3)) return;
    const std::string_view kind = as_view(reply->element[0]);
    const redisReply* channel_reply = reply->element[1];
    if (channel_reply->type != REDIS_REPLY_STRING) return;
    std::string_view name = as_view(channel_reply);
    if (kind == "subscribe" && name == global_key("moderation")) {
        // The server-wide channels are confirmed in the order asked (this one last):
        // from now on nothing published to them is missed, and the broker is healthy.
        server_wide_subscribed_ = true;
        return update_health();
    }
    if (kind == "message" && reply->element[2]->type == REDIS_REPLY_STRING) {
        const redisReply* payload = reply->element[2];
        if (name == global_key("control")) {
            auto event = std::make_shared<v1::Event>();
            if (event->ParseFromArray(payload->str, static_cast<int>(payload->len))) {
                sink_.on_global_event(event);
            }
            return;
        }
        if (name == global_key("duty")) {
            auto report = std::make_shared<v1::DutyReport>();
            if (report->ParseFromArray(payload->str, static_cast<int>(payload->len))) {
                sink_.on_duty_report(report);
            }
            return;
        }
        if (name == global_key("moderation")) {
            auto item = std::make_shared<v1::ModerationItem>();
            if (item->ParseFromArray(payload->str, static_cast<int>(payload->len))) {
                sink_.on_moderation_item(item);
            }
            return;
        }
    }
    // Room channels are "<prefix>room:{<id>}".
    const std::string head = options_.key_prefix + "room:{";
    if (name.size() <= head.size() + 1 || name.substr(0, head.size()) != head ||
        name.back() != '}') {
        return;
    }
    const std::string room_id(name.substr(head.size(), name.size() - head.size() - 1));
    auto found = streams_.find(room_id);
    if (found == streams_.end()) return;  // unsubscribed meanwhile

    if (kind == "subscribe") {
        found->second.subscribed = true;
        // Events published before the subscription took effect are read from the stream;
        // presence, which has no stream, is read afresh by the sink.
        if (found->second.last_seq) catch_up(room_id);
        sink_.on_room_resubscribed(room_id);
        return;
    }
    if (kind != "message" || reply->element[2]->type != REDIS_REPLY_STRING) return;
    auto event = std::make_shared<v1::Event>();
    const redisReply* payload = reply->element[2];
    if (!event->ParseFromArray(payload->str, static_cast<int>(payload->len)) ||
        event->room_id() != room_id) {
        return;
    }
    if (event->seq() == 0) return sink_.on_room_event(event);  // live-only: no order to keep
    on_sequenced(room_id, std::move(event));
}

void RedisBroker::on_sequenced(const std::string& room_id, EventPtr event) {
    auto found = streams_.find(room_id);
    if (found == streams_.end()) return;
    RoomStream& stream = found->second;
    if (stream.catching_up) {
        if (stream.held.size() < kMaxHeldEvents) stream.held.push_back(std::move(event));
        return;
    }
    const std::uint64_t seq = event->seq();
    if (!stream.last_seq || seq == *stream.last_seq + 1) {
        stream.last_seq = seq;
        sink_.on_room_event(event);
    } else if (seq > *stream.last_seq + 1) {
        // Something was missed (a lost subscription, or a publish racing the subscribe):
        // read the gap from the stream, then deliver this one in order.
        stream.held.push_back(std::move(event));
        catch_up(room_id);
    }
    // seq <= last_seq: already delivered (it was in a catch-up read).
}

void RedisBroker::deliver_in_order(RoomStream& stream, const EventPtr& event) {
    if (stream.last_seq && event->seq() <= *stream.last_seq) return;
    stream.last_seq = event->seq();
    sink_.on_room_event(event);
}

RedisBroker::RoomStream* RedisBroker::stream_of(const std::string& room_id,
                                                std::uint64_t generation) {
    auto found = streams_.find(room_id);
    if (found == streams_.end() || found->second.generation != generation) return nullptr;
    return &found->second;
}

void RedisBroker::catch_up(const std::string& room_id) {
    auto found = streams_.find(room_id);
    if (found == streams_.end() || found->second.catching_up) return;
    RoomStream& stream = found->second;
    stream.catching_up = true;
    HistoryQuery query;
    query.room_id = room_id;
    query.after_seq = stream.last_seq.value_or(0);
    query.limit = kCatchUpPage;
    query.newest = false;
    read_range(
        query, [this, alive = alive_, room_id, generation = stream.generation](HistorySlice slice) {
            if (!*alive) return;
            // Every sink call may end the subscription (a kick of the last member here
            // unsubscribes the room): the stream is looked up again after each one.
            RoomStream* current = stream_of(room_id, generation);
            if (current == nullptr) return;
            current->catching_up = false;
            if (!slice.ok) return;  // Redis is down; the next event or resubscription retries
            for (const EventPtr& event : slice.events) {
                if ((current = stream_of(room_id, generation)) == nullptr) return;
                deliver_in_order(*current, event);
            }
            if ((current = stream_of(room_id, generation)) == nullptr) return;
            if (slice.has_more) return catch_up(room_id);
            std::vector<EventPtr> held = std::move(current->held);
            current->held.clear();
            for (std::size_t i = 0; i < held.size(); ++i) {
                if ((current = stream_of(room_id, generation)) == nullptr) return;
                if (current->last_seq && held[i]->seq() > *current->last_seq + 1) {
                    // Events between were not held (the list is bounded): read them first.
                    current->held.assign(held.begin() + static_cast<std::ptrdiff_t>(i), held.end());
                    return catch_up(room_id);
                }
                deliver_in_order(*current, held[i]);
            }
        });
}

void RedisBroker::update_health() {
    // Shard 0 is healthy once it hears the server-wide channels: a global ban or a moderation
    // item published before that would not reach this instance.
    const bool hears_server_wide = !options_.keeps_instance_alive || server_wide_subscribed_;
    healthy_.store(commands_.connected() && subscriber_.connected() && hears_server_wide,
                   std::memory_order_relaxed);
}

void RedisBroker::heartbeat() {
    heartbeat_timer_.cancel();
    if (!commands_.connected()) return;  // resumes when the connection comes back
    commands_.command({"ZADD", options_.key_prefix + "instances", std::to_string(core::wall_ms()),
                       options_.instance_id},
                      [](const redisReply*) {});
    if (options_.report) {
        // Expires with the heartbeat, so a dead instance's report goes when it does.
        commands_.command({"SET", instance_report_key(options_.instance_id),
                           options_.report().SerializeAsString(), "PX",
                           std::to_string(options_.instance_timeout.count())},
                          [](const redisReply*) {});
    }
    reap_dead_instances();
    heartbeat_timer_.expires_after(options_.heartbeat_interval);
    heartbeat_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (!ec && *alive) heartbeat();
    });
}

void RedisBroker::forget_room(const std::string& room_id) {
    const std::string after_ms =
        std::to_string(std::max<std::uint64_t>(1, options_.retention.max_age_seconds) * 1000);
    // What people wrote goes now; the counters and the state expire, so an event still on its
    // way finds its sequence and leaves nothing behind for long.
    commands_.command({"DEL", key(room_id, ":log")}, [](const redisReply*) {});
    for (const char* suffix : {":seq", ":state", ":members", ":pver", ":handles"}) {
        commands_.command({"PEXPIRE", key(room_id, suffix), after_ms}, [](const redisReply*) {});
    }
}

std::string RedisBroker::instance_report_key(std::string_view instance_id) const {
    return options_.key_prefix + "instance:" + std::string(instance_id) + ":report";
}

void RedisBroker::read_instances(InstancesCallback done) {
    commands_.command(
        {"ZRANGE", options_.key_prefix + "instances", "0", "-1", "WITHSCORES"},
        [this, alive = alive_, done = std::move(done)](const redisReply* reply) mutable {
            if (!*alive || reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
                return done(std::nullopt);
            }
            auto instances = std::make_shared<std::vector<v1::InstanceInfo>>();
            std::vector<std::string> mget{"MGET"};
            for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
                v1::InstanceInfo& info = instances->emplace_back();
                info.set_instance_id(std::string(as_view(reply->element[i])));
                const std::string_view score = as_view(reply->element[i + 1]);
                std::uint64_t heartbeat_ms = 0;
                std::from_chars(score.data(), score.data() + score.size(), heartbeat_ms);
                info.set_reported_ms(heartbeat_ms);
                info.set_state("unknown");
                mget.push_back(instance_report_key(info.instance_id()));
            }
            if (instances->empty()) return done(std::vector<v1::InstanceInfo>{});
            commands_.command(mget, [instances, done = std::move(done)](const redisReply* reports) {
                if (reports == nullptr || reports->type != REDIS_REPLY_ARRAY) {
                    return done(std::nullopt);
                }
                for (std::size_t i = 0; i < reports->elements && i < instances->size(); ++i) {
                    const redisReply* bytes = reports->element[i];
                    if (bytes->type != REDIS_REPLY_STRING) continue;
                    v1::InstanceInfo report;
                    if (!report.ParseFromArray(bytes->str, static_cast<int>(bytes->len))) continue;
                    // The heartbeat list is the authority on who is alive and since when.
                    report.set_instance_id((*instances)[i].instance_id());
                    (*instances)[i] = std::move(report);
                }
                done(std::move(*instances));
            });
        });
}

void RedisBroker::reap_dead_instances() {
    const std::uint64_t now = core::wall_ms();
    const auto timeout = static_cast<std::uint64_t>(options_.instance_timeout.count());
    if (now <= timeout) return;
    commands_.command(
        {"ZRANGEBYSCORE", options_.key_prefix + "instances", "-inf", std::to_string(now - timeout)},
        [this, alive = alive_](const redisReply* reply) {
            if (!*alive || reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;
            for (std::size_t i = 0; i < reply->elements; ++i) {
                const std::string dead(as_view(reply->element[i]));
                if (dead == options_.instance_id) continue;
                eval(reap_script(), {options_.key_prefix + "instances"},
                     {dead, options_.key_prefix, std::to_string(core::wall_ms())},
                     [dead](const redisReply* removed) {
                         if (removed != nullptr && removed->type == REDIS_REPLY_INTEGER) {
                             spdlog::info("instance {} stopped answering: removed {} members", dead,
                                          removed->integer);
                         }
                     });
            }
        });
}

}  // namespace haven::broker::redis
