// The operators' admin API, behind an operator token (Authorization: Bearer <JWT with role
// "operator">) whose subject is not banned server-wide: a ban holds here as it does on the
// WebSocket. Answers arrive asynchronously because they are read from the broker.
//
//   GET /admin/audit?room=ID&before=ENTRY_ID&limit=N   the audit log, newest first (JSON)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "haven.pb.h"
#include "http/http_routes.hpp"

namespace haven::http {

class AdminApi {
public:
    using AuditReader =
        std::function<void(std::string room_id, std::string before_id, std::uint32_t limit,
                           std::function<void(std::optional<v1::AuditPage>)>)>;

    // Calls back with whether a subject is banned server-wide now (from any thread).
    using BanCheck = std::function<void(std::string subject, std::function<void(bool banned)>)>;

    AdminApi(const auth::JwtVerifier& tokens, AuditReader read_audit, BanCheck banned);

    static bool handles(std::string_view target) { return target.substr(0, 7) == "/admin/"; }

    // `done` may run on another shard's thread; it runs exactly once.
    void handle(std::string_view method, std::string_view target, std::string_view authorization,
                std::function<void(HttpReply)> done) const;

private:
    // After the caller is known to be an operator in good standing.
    void serve(std::string_view target, std::function<void(HttpReply)> done) const;

    const auth::JwtVerifier& tokens_;
    AuditReader read_audit_;
    BanCheck banned_;
};

}  // namespace haven::http
