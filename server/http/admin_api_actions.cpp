// The admin API's calls that change something: each checks its body, is recorded in the audit
// log with the operator's name before it acts, and answers once the broker has done it.
#include <memory>
#include <tuple>

#include "core/clock.hpp"
#include "http/admin_api.hpp"
#include "http/admin_json.hpp"
#include "protocol/utf8.hpp"
#include "rooms/room_directory.hpp"
#include "rooms/runtime_rooms.hpp"

namespace haven::http {
namespace {

constexpr std::size_t kMaxSubjectBytes = 256;
constexpr std::size_t kMaxReasonBytes = 500;
constexpr std::size_t kMaxPathBytes = 2048;
constexpr std::size_t kMaxTitleBytes = 200;  // as for rooms in the configuration
constexpr std::size_t kMaxTopicBytes = 500;

using admin_json::error;
using admin_json::reply;

}  // namespace

void AdminApi::disconnect(const Call& call, Done done) const {
    const auto fields = admin_json::parse_object(call.body);
    const auto subject =
        fields ? admin_json::string_field(*fields, "subject", kMaxSubjectBytes) : std::nullopt;
    if (!subject) {
        return done(error(400, "the body must be {\"subject\": \"...\", \"reason\": \"...\"}"));
    }
    const auto reason = admin_json::string_field(*fields, "reason", kMaxReasonBytes);
    if (!reason) return done(error(400, "a reason (1 to 500 bytes) is required"));
    record(call, "api_disconnect", *subject, *reason);
    backend_.disconnect(*subject, [who = *subject, done = std::move(done)](bool ok) {
        if (!ok) return done(error(503, "not done: the broker cannot be reached; try again"));
        done(reply(200, boost::json::object{{"subject", who}, {"disconnected", true}}));
    });
}

void AdminApi::publish(const Call& call, Done done) const {
    const auto fields = admin_json::parse_object(call.body);
    const auto room_id = fields ? admin_json::string_field(*fields, "room", 64) : std::nullopt;
    if (!room_id)
        return done(error(400, "the body must be {\"room\": \"...\", \"text\": \"...\"}"));
    if (backend_.directory->find(*room_id) == nullptr) return done(error(404, "no such room"));
    // Bytes first (a code point is at most 4), then code points, as for posts.
    const auto text =
        admin_json::string_field(*fields, "text", std::size_t{backend_.max_notice_chars} * 4);
    const auto length = text ? protocol::utf8_length(*text) : std::nullopt;
    if (!length || *length > backend_.max_notice_chars) {
        return done(error(
            400, "text must be 1 to " + std::to_string(backend_.max_notice_chars) + " characters"));
    }
    // The audit log names the room; the notice itself is in the room's history.
    record(call, "api_publish", "room " + *room_id, "", *room_id);
    auto event = std::make_shared<v1::Event>();
    event->set_room_id(*room_id);
    event->mutable_system_notice()->set_text(*text);
    backend_.publish(std::move(event), [room_id = *room_id,
                                        done = std::move(done)](std::optional<std::uint64_t> seq) {
        if (!seq) return done(error(503, "not published: the broker cannot be reached; try again"));
        done(reply(200, boost::json::object{{"room", room_id}, {"seq", *seq}}));
    });
}

void AdminApi::history_remove(const Call& call, Done done) const {
    const auto fields = admin_json::parse_object(call.body);
    const auto room_id = fields ? admin_json::string_field(*fields, "room", 64) : std::nullopt;
    if (!room_id) {
        return done(error(400, "the body must be {\"room\": \"...\", \"reason\": \"...\"}"));
    }
    if (backend_.directory->find(*room_id) == nullptr) return done(error(404, "no such room"));
    const auto reason = admin_json::string_field(*fields, "reason", kMaxReasonBytes);
    if (!reason) return done(error(400, "a reason (1 to 500 bytes) is required"));
    record(call, "api_history_remove", "room " + *room_id, *reason, *room_id);
    // One sequenced event does it: the broker drops the log before it as it stores it, and
    // members who are there drop what they have.
    auto event = std::make_shared<v1::Event>();
    event->set_room_id(*room_id);
    event->mutable_history_cleared();
    backend_.publish(std::move(event), [room_id = *room_id,
                                        done = std::move(done)](std::optional<std::uint64_t> seq) {
        if (!seq) return done(error(503, "not done: the broker cannot be reached; try again"));
        done(reply(200, boost::json::object{{"room", room_id}, {"clearedBefore", *seq}}));
    });
}

// ---- rooms at run time ---------------------------------------------------------------------

void AdminApi::open_room(const Call& call, Done done) const {
    const auto fields = admin_json::parse_object(call.body);
    const auto name = fields ? admin_json::string_field(*fields, "template", 64) : std::nullopt;
    if (!name) {
        return done(error(400, "the body must be {\"template\": \"...\", \"title\": \"...\"}"));
    }
    const config::RoomConfig* templ = nullptr;
    for (const config::RoomConfig& candidate : *backend_.templates) {
        if (candidate.id == *name) templ = &candidate;
    }
    if (templ == nullptr) return done(error(404, "no such room template"));
    // Title and topic are optional; when given they follow the rules of configured rooms.
    std::string title, topic;
    for (auto [key, max_bytes, out] : {std::tuple{"title", kMaxTitleBytes, &title},
                                       std::tuple{"topic", kMaxTopicBytes, &topic}}) {
        if (!fields->contains(key)) continue;
        const auto value = admin_json::string_field(*fields, key, max_bytes);
        if (!value || !protocol::utf8_length(*value)) {
            return done(error(400, std::string(key) + " must be 1 to " + std::to_string(max_bytes) +
                                       " bytes of text"));
        }
        *out = *value;
    }
    v1::RuntimeRoom room = rooms::runtime_room_from_template(*templ, title, topic, core::wall_ms());
    record(call, "api_room_open", "room " + room.id(), "template " + templ->id, room.id());
    const boost::json::object answer{{"id", room.id()},       {"title", room.title()},
                                     {"topic", room.topic()}, {"template", room.template_name()},
                                     {"kind", room.kind()},   {"capacity", room.capacity()}};
    backend_.open_room(
        std::move(room), [answer, done = std::move(done)](AdminBackend::RoomChange change) {
            switch (change) {
                case AdminBackend::RoomChange::done:
                    return done(reply(200, answer));
                case AdminBackend::RoomChange::too_many:
                    return done(error(503, "too many rooms are open (limits.max_runtime_rooms)"));
                case AdminBackend::RoomChange::taken:
                    return done(error(409, "a room with that id is open"));
                default:
                    return done(error(503, "not opened: the broker cannot be reached; try again"));
            }
        });
}

void AdminApi::close_room(const Call& call, Done done) const {
    const auto fields = admin_json::parse_object(call.body);
    const auto room_id = fields ? admin_json::string_field(*fields, "room", 200) : std::nullopt;
    if (!room_id) {
        return done(error(400, "the body must be {\"room\": \"...\", \"reason\": \"...\"}"));
    }
    if (backend_.directory->find(*room_id) != nullptr &&
        !backend_.directory->is_runtime(*room_id)) {
        return done(error(409, "rooms of the configuration close by changing it"));
    }
    const auto reason = admin_json::string_field(*fields, "reason", kMaxReasonBytes);
    if (!reason) return done(error(400, "a reason (1 to 500 bytes) is required"));
    record(call, "api_room_close", "room " + *room_id, *reason, *room_id);
    backend_.close_room(*room_id, [room_id = *room_id,
                                   done = std::move(done)](AdminBackend::RoomChange change) {
        switch (change) {
            case AdminBackend::RoomChange::done:
                return done(reply(200, boost::json::object{{"room", room_id}, {"closed", true}}));
            case AdminBackend::RoomChange::not_found:
                return done(error(404, "no such room is open"));
            default:
                return done(error(503, "not closed: the broker cannot be reached; try again"));
        }
    });
}

// ---- batch -------------------------------------------------------------------------------

void AdminApi::batch(const Call& call, Done done) const {
    const auto fields = admin_json::parse_object(call.body);
    const boost::json::value* calls = fields ? fields->if_contains("calls") : nullptr;
    if (calls == nullptr || !calls->is_array() || calls->as_array().empty()) {
        return done(error(400, "the body must be {\"calls\": [{\"method\", \"path\", \"body\"}]}"));
    }
    if (calls->as_array().size() > backend_.max_batch_calls) {
        return done(error(400, "at most " + std::to_string(backend_.max_batch_calls) +
                                   " calls in one batch (limits.admin_batch_calls)"));
    }
    // Every call is checked before any runs: a batch with a malformed call does nothing.
    auto run = std::make_shared<BatchRun>();
    for (const boost::json::value& entry : calls->as_array()) {
        const boost::json::object* object = entry.if_object();
        const auto method = object ? admin_json::string_field(*object, "method", 8) : std::nullopt;
        const auto path =
            object ? admin_json::string_field(*object, "path", kMaxPathBytes) : std::nullopt;
        const boost::json::value* body = object ? object->if_contains("body") : nullptr;
        if (!method || !path || (*method != "GET" && *method != "POST") ||
            path->rfind("/admin/", 0) != 0 || (body != nullptr && !body->is_object())) {
            return done(error(400,
                              "each call needs a method (GET or POST), a path under "
                              "/admin/ and, for POST, a body object"));
        }
        if (path->rfind("/admin/api/batch", 0) == 0) {
            return done(error(400, "a batch cannot hold another batch"));
        }
        run->calls.push_back(Call{*method, *path, body ? boost::json::serialize(*body) : "",
                                  call.operator_subject, call.operator_handle});
    }
    run->done = std::move(done);
    run_batch(std::move(run));
}

// One call after the other, in order, so a later call sees what an earlier one did.
void AdminApi::run_batch(std::shared_ptr<BatchRun> run) const {
    if (run->next == run->calls.size()) {
        return run->done(reply(200, boost::json::object{{"replies", std::move(run->replies)}}));
    }
    Call call = run->calls[run->next++];
    serve(std::move(call), [this, run](HttpReply answer) {
        boost::system::error_code ec;
        boost::json::value body = boost::json::parse(answer.body, ec);
        run->replies.push_back(
            boost::json::object{{"status", answer.status},
                                {"body", ec ? boost::json::value(nullptr) : std::move(body)}});
        run_batch(run);
    });
}

void AdminApi::record(const Call& call, std::string action, std::string target, std::string reason,
                      std::string room_id) const {
    v1::AuditEntry entry;
    entry.set_time_ms(core::wall_ms());
    entry.set_actor(call.operator_handle.empty() ? "operator" : call.operator_handle);
    entry.set_actor_subject(call.operator_subject);
    entry.set_action(std::move(action));
    entry.set_target(std::move(target));
    entry.set_reason(std::move(reason));
    entry.set_room_id(std::move(room_id));
    backend_.append_audit(std::move(entry));
}

}  // namespace haven::http
