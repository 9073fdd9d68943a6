// The operators' admin API, behind an operator token (Authorization: Bearer <JWT with role
// "operator">) whose subject is not banned server-wide: a ban holds here as it does on the
// WebSocket. JSON out (and in, for POST); answers arrive asynchronously because they come
// from the broker. Every call but reading the audit log is recorded in it, naming the operator.
//
//   GET  /admin/audit?room=ID&before=ENTRY_ID&limit=N  the audit log, newest first
//   GET  /admin/api/rooms                   the rooms, each with its members on every instance
//   GET  /admin/api/presence?room=ID        who is in a room, on every instance
//   GET  /admin/api/presence_stats?room=ID  how many connections and people are in it
//   POST /admin/api/disconnect  {"subject": "...", "reason": "..."}
//                                           closes every session of that person, on every
//                                           instance (4004: not to reconnect by itself)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.hpp"
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

    AuditReader read_audit;
    BanCheck banned;
    PresenceReader presence;
    Disconnect disconnect;
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
    struct Call;
    // After the caller is known to be an operator in good standing.
    void serve(Call call, std::function<void(HttpReply)> done) const;
    void audit_page(const Call& call, std::function<void(HttpReply)> done) const;
    void rooms(std::function<void(HttpReply)> done) const;
    void presence(const Call& call, bool stats, std::function<void(HttpReply)> done) const;
    void disconnect(const Call& call, std::function<void(HttpReply)> done) const;
    void record(const Call& call, std::string action, std::string target, std::string reason) const;

    const auth::JwtVerifier& tokens_;
    AdminBackend backend_;
};

}  // namespace haven::http
