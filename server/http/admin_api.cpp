#include "http/admin_api.hpp"

#include <charconv>
#include <memory>
#include <mutex>
#include <set>

#include <google/protobuf/util/json_util.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/clock.hpp"
#include "rooms/room_directory.hpp"

namespace haven::http {
namespace {

constexpr std::uint32_t kDefaultLimit = 50;
constexpr std::uint32_t kMaxLimit = 500;
constexpr std::size_t kMaxSubjectBytes = 256;
constexpr std::size_t kMaxReasonBytes = 500;

HttpReply json_reply(unsigned status, const boost::json::value& value) {
    HttpReply reply;
    reply.status = status;
    reply.content_type = "application/json";
    reply.body = boost::json::serialize(value) + "\n";
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
}

HttpReply json_error(unsigned status, std::string_view message) {
    HttpReply reply = json_reply(status, boost::json::object{{"error", message}});
    if (status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
    return reply;
}

boost::json::object member_json(const v1::Member& member) {
    return {{"memberId", member.member_id()},
            {"handle", member.handle()},
            {"role", v1::Role_Name(member.role())}};
}

}  // namespace

// One request, once its caller is known.
struct AdminApi::Call {
    std::string method;
    std::string target;
    std::string body;
    std::string operator_subject;
    std::string operator_handle;
};

AdminApi::AdminApi(const auth::JwtVerifier& tokens, AdminBackend backend)
    : tokens_(tokens), backend_(std::move(backend)) {}

void AdminApi::handle(std::string_view method, std::string_view target,
                      std::string_view authorization, std::string_view body,
                      std::function<void(HttpReply)> done) const {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.substr(0, kBearer.size()) != kBearer || !tokens_.enabled()) {
        return done(json_error(401, "an operator token is required"));
    }
    const auth::TokenResult token =
        tokens_.verify(authorization.substr(kBearer.size()), core::wall_seconds());
    if (!token.claims) return done(json_error(401, "the token was not accepted"));
    if (token.claims->role != auth::Role::operator_) {
        return done(json_error(403, "only operators may use the admin API"));
    }
    Call call{std::string(method), std::string(target), std::string(body), token.claims->subject,
              token.claims->handle};
    const std::string subject = call.operator_subject;
    backend_.banned(subject,
                    [this, call = std::move(call), done = std::move(done)](bool banned) mutable {
                        if (banned) return done(json_error(403, "this account is banned"));
                        serve(std::move(call), std::move(done));
                    });
}

void AdminApi::serve(Call call, std::function<void(HttpReply)> done) const {
    const auto url = boost::urls::parse_origin_form(call.target);
    if (!url) return done(json_error(400, "bad request target"));
    const std::string path = url->path();
    const bool get = call.method == "GET";
    const bool post = call.method == "POST";
    if (path == "/admin/audit") {
        if (!get) return done(json_error(405, "use GET"));
        return audit_page(call, std::move(done));
    }
    if (path == "/admin/api/rooms") {
        if (!get) return done(json_error(405, "use GET"));
        record(call, "api_rooms", "rooms", "");
        return rooms(std::move(done));
    }
    if (path == "/admin/api/presence" || path == "/admin/api/presence_stats") {
        if (!get) return done(json_error(405, "use GET"));
        return presence(call, path == "/admin/api/presence_stats", std::move(done));
    }
    if (path == "/admin/api/disconnect") {
        if (!post) return done(json_error(405, "use POST"));
        return disconnect(call, std::move(done));
    }
    done(json_error(404, "no such admin endpoint"));
}

void AdminApi::audit_page(const Call& call, std::function<void(HttpReply)> done) const {
    const auto url = boost::urls::parse_origin_form(call.target);
    std::string room_id, before_id;
    std::uint32_t limit = kDefaultLimit;
    for (const auto& param : url->params()) {
        if (param.key == "room") {
            room_id = param.value;
        } else if (param.key == "before") {
            before_id = param.value;
        } else if (param.key == "limit") {
            const auto [end, error] =
                std::from_chars(param.value.data(), param.value.data() + param.value.size(), limit);
            if (error != std::errc{} || end != param.value.data() + param.value.size() ||
                limit == 0 || limit > kMaxLimit) {
                return done(json_error(400, "limit must be 1 to 500"));
            }
        } else {
            return done(json_error(400, "unknown parameter"));
        }
    }
    backend_.read_audit(std::move(room_id), std::move(before_id), limit,
                        [done = std::move(done)](std::optional<v1::AuditPage> page) {
                            if (!page) {
                                return done(json_error(503, "the audit log cannot be read now"));
                            }
                            HttpReply reply;
                            reply.content_type = "application/json";
                            google::protobuf::util::JsonPrintOptions options;
                            options.always_print_primitive_fields = true;
                            (void)google::protobuf::util::MessageToJsonString(*page, &reply.body,
                                                                              options);
                            reply.headers.emplace_back("Cache-Control", "no-store");
                            done(std::move(reply));
                        });
}

void AdminApi::rooms(std::function<void(HttpReply)> done) const {
    // Every room's presence is read at once; the answer goes out when the last one is in.
    struct Gather {
        std::mutex mutex;
        std::vector<std::optional<std::size_t>> counts;
        std::size_t waiting = 0;
        std::function<void(HttpReply)> done;
    };
    const auto& all = backend_.directory->all();
    auto gather = std::make_shared<Gather>();
    gather->counts.resize(all.size());
    gather->waiting = all.size();
    gather->done = std::move(done);
    const auto answer = [this, gather] {
        boost::json::array rooms;
        const auto& configs = backend_.directory->all();
        for (std::size_t i = 0; i < configs.size(); ++i) {
            boost::json::object room{{"id", configs[i].id},
                                     {"title", configs[i].title},
                                     {"kind", config::to_string(configs[i].kind)},
                                     {"capacity", configs[i].capacity}};
            if (gather->counts[i]) {
                room["members"] = *gather->counts[i];
            } else {
                room["members"] = nullptr;  // the broker could not say
            }
            rooms.push_back(std::move(room));
        }
        gather->done(json_reply(200, boost::json::object{{"rooms", std::move(rooms)}}));
    };
    if (all.empty()) return answer();
    for (std::size_t i = 0; i < all.size(); ++i) {
        backend_.presence(all[i].id,
                          [gather, i, answer](std::optional<std::vector<v1::Member>> members) {
                              bool last = false;
                              {
                                  std::lock_guard lock(gather->mutex);
                                  if (members) gather->counts[i] = members->size();
                                  last = --gather->waiting == 0;
                              }
                              if (last) answer();
                          });
    }
}

void AdminApi::presence(const Call& call, bool stats, std::function<void(HttpReply)> done) const {
    const auto url = boost::urls::parse_origin_form(call.target);
    std::string room_id;
    for (const auto& param : url->params()) {
        if (param.key != "room") return done(json_error(400, "unknown parameter"));
        room_id = param.value;
    }
    if (backend_.directory->find(room_id) == nullptr) {
        return done(json_error(404, "no such room"));
    }
    record(call, stats ? "api_presence_stats" : "api_presence", "room " + room_id, "");
    backend_.presence(room_id, [room_id, stats, done = std::move(done)](
                                   std::optional<std::vector<v1::Member>> members) {
        if (!members) return done(json_error(503, "the room cannot be read now; try again"));
        if (stats) {
            // One person on two devices is two connections and one handle.
            std::set<std::string> handles;
            for (const v1::Member& member : *members) handles.insert(member.handle());
            return done(json_reply(200, boost::json::object{{"room", room_id},
                                                            {"connections", members->size()},
                                                            {"people", handles.size()}}));
        }
        boost::json::array list;
        for (const v1::Member& member : *members) list.push_back(member_json(member));
        done(json_reply(200, boost::json::object{{"room", room_id}, {"members", std::move(list)}}));
    });
}

void AdminApi::disconnect(const Call& call, std::function<void(HttpReply)> done) const {
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(call.body, ec);
    const boost::json::object* fields = ec ? nullptr : body.if_object();
    const boost::json::value* subject = fields ? fields->if_contains("subject") : nullptr;
    const boost::json::value* reason = fields ? fields->if_contains("reason") : nullptr;
    if (subject == nullptr || !subject->is_string() || subject->as_string().empty() ||
        subject->as_string().size() > kMaxSubjectBytes) {
        return done(
            json_error(400, "the body must be {\"subject\": \"...\", \"reason\": \"...\"}"));
    }
    if (reason == nullptr || !reason->is_string() || reason->as_string().empty() ||
        reason->as_string().size() > kMaxReasonBytes) {
        return done(json_error(400, "a reason (1 to 500 bytes) is required"));
    }
    const std::string who(subject->as_string());
    record(call, "api_disconnect", who, std::string(reason->as_string()));
    backend_.disconnect(who, [who, done = std::move(done)](bool ok) {
        if (!ok) return done(json_error(503, "not done: the broker cannot be reached; try again"));
        done(json_reply(200, boost::json::object{{"subject", who}, {"disconnected", true}}));
    });
}

void AdminApi::record(const Call& call, std::string action, std::string target,
                      std::string reason) const {
    v1::AuditEntry entry;
    entry.set_time_ms(core::wall_ms());
    entry.set_actor(call.operator_handle.empty() ? "operator" : call.operator_handle);
    entry.set_actor_subject(call.operator_subject);
    entry.set_action(std::move(action));
    entry.set_target(std::move(target));
    entry.set_reason(std::move(reason));
    backend_.append_audit(std::move(entry));
}

}  // namespace haven::http
