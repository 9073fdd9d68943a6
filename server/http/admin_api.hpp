// The operators' admin API, behind an operator token (Authorization: Bearer <JWT with role
// "operator">) whose subject is not banned server-wide: a ban holds here as it does on the
// WebSocket. JSON out (and in, for POST); answers arrive asynchronously because they come
// from the broker. Every call but reading the audit log is recorded in it, naming the operator.
//
//   GET  /admin/audit?room=ID&before=ENTRY_ID&limit=N  the audit log, newest first
//   GET  /admin/api/rooms                   the rooms, each with its members on every instance
//   GET  /admin/api/presence?room=ID        who is in a room, on every instance
//   GET  /admin/api/presence_stats?room=ID  how many connections and people are in it
//   GET  /admin/api/history?room=ID&before=SEQ&limit=N
//                                           a room's events as moderators see them, hidden
//                                           posts included and marked
//   GET  /admin/api/info                    the cluster's instances, as each last reported
//   POST /admin/api/disconnect  {"subject": "...", "reason": "..."}
//                                           closes every session of that person, on every
//                                           instance (4004: not to reconnect by itself)
//   POST /admin/api/publish  {"room": "...", "text": "..."}
//                                           a notice from the service into a room
//   POST /admin/api/history_remove  {"room": "...", "reason": "..."}
//                                           removes a room's history, on every instance
//   POST /admin/api/rooms/open  {"template": "...", "title": "...", "topic": "..."}
//                                           a room from a template, on every instance
//   POST /admin/api/rooms/close  {"room": "...", "reason": "..."}
//                                           closes a room opened that way; its members leave
//   POST /admin/api/batch  {"calls": [{"method": "POST", "path": "/admin/api/publish",
//                                      "body": {...}}, ...]}
//                                           several calls in order, one reply each
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "auth/jwt.hpp"
#include "config/config.hpp"
#include "haven.pb.h"
#include "http/http_routes.hpp"

namespace haven::rooms {
class RoomDirectory;
}

namespace haven::http {

// What the API asks of the running server (wired in app/server.cpp). Each callback may run on
// any shard's thread, exactly once.
struct AdminBackend {
    using AuditReader =
        std::function<void(std::string room_id, std::string before_id, std::uint32_t limit,
                           std::function<void(std::optional<v1::AuditPage>)>)>;
    // Whether a subject is banned server-wide now.
    using BanCheck = std::function<void(std::string subject, std::function<void(bool banned)>)>;
    // The room's members on every instance; nothing when the broker could not be reached.
    using PresenceDone = std::function<void(std::optional<std::vector<v1::Member>>)>;
    using PresenceReader = std::function<void(std::string room_id, PresenceDone)>;
    // Ends every session of `subject` on every instance; false when the broker could not be
    // reached.
    using Disconnect = std::function<void(std::string subject, std::function<void(bool done)>)>;

    // Publishes a sequenced event into its room, on every instance: its seq, or nothing when
    // the broker could not be reached.
    using SeqDone = std::function<void(std::optional<std::uint64_t> seq)>;
    using RoomPublisher = std::function<void(std::shared_ptr<v1::Event>, SeqDone)>;
    // A page of a room's history as moderators see it: hidden posts included, and named.
    struct HistoryView {
        std::vector<v1::Event> events;  // oldest first
        std::vector<std::uint64_t> hidden;
        std::uint64_t oldest_seq = 0;
        std::uint64_t last_seq = 0;
        bool has_more = false;
    };
    using HistoryReader =
        std::function<void(std::string room_id, std::uint64_t before_seq, std::uint32_t limit,
                           std::function<void(std::optional<HistoryView>)>)>;
    // Rooms opened and closed at run time, on every instance.
    enum class RoomChange { done, taken, too_many, not_found, unavailable };
    using RoomChangeDone = std::function<void(RoomChange)>;
    using RoomOpener = std::function<void(v1::RuntimeRoom, RoomChangeDone)>;
    using RoomCloser = std::function<void(std::string room_id, RoomChangeDone)>;
    // Every instance of the cluster as it last reported itself.
    using InstancesReader =
        std::function<void(std::function<void(std::optional<std::vector<v1::InstanceInfo>>)>)>;

    AuditReader read_audit;
    BanCheck banned;
    PresenceReader presence;
    Disconnect disconnect;
    RoomPublisher publish;
    HistoryReader history;
    InstancesReader instances;
    RoomOpener open_room;
    RoomCloser close_room;
    const std::vector<config::RoomConfig>* templates = nullptr;  // [[room_templates]]
    std::uint32_t max_notice_chars = 4000;                       // limits.max_post_chars
    std::uint32_t max_batch_calls = 50;                          // limits.admin_batch_calls
    std::function<void(v1::AuditEntry)> append_audit;
    const rooms::RoomDirectory* directory = nullptr;
};

class AdminApi {
public:
    AdminApi(const auth::JwtVerifier& tokens, AdminBackend backend);

    static bool handles(std::string_view target) { return target.substr(0, 7) == "/admin/"; }

    // `done` may run on another shard's thread; it runs exactly once.
    void handle(std::string_view method, std::string_view target, std::string_view authorization,
                std::string_view body, std::function<void(HttpReply)> done) const;

private:
    // One request, once its caller is known.
    struct Call {
        std::string method;
        std::string target;
        std::string body;
        std::string operator_subject;
        std::string operator_handle;
    };
    using Done = std::function<void(HttpReply)>;
    // After the caller is known to be an operator in good standing.
    void serve(Call call, Done done) const;
    // Reading (admin_api.cpp).
    void audit_page(const Call& call, Done done) const;
    void rooms(const Call& call, Done done) const;
    void presence(const Call& call, Done done) const;
    void presence_stats(const Call& call, Done done) const;
    void members(const Call& call, bool stats, Done done) const;
    void history(const Call& call, Done done) const;
    void info(const Call& call, Done done) const;
    // Acting (admin_api_actions.cpp).
    void disconnect(const Call& call, Done done) const;
    void publish(const Call& call, Done done) const;
    void history_remove(const Call& call, Done done) const;
    void batch(const Call& call, Done done) const;
    void open_room(const Call& call, Done done) const;
    void close_room(const Call& call, Done done) const;
    struct BatchRun {
        std::vector<Call> calls;
        std::size_t next = 0;
        boost::json::array replies;
        Done done;
    };
    void run_batch(std::shared_ptr<BatchRun> run) const;
    // Into the audit log, naming the operator; `room_id` when the call is about one room.
    void record(const Call& call, std::string action, std::string target, std::string reason,
                std::string room_id = "") const;

    const auth::JwtVerifier& tokens_;
    AdminBackend backend_;
};

}  // namespace haven::http
