#include "http/admin_api.hpp"

#include <charconv>
#include <memory>
#include <mutex>
#include <set>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/clock.hpp"
#include "http/admin_json.hpp"
#include "rooms/room_directory.hpp"

namespace haven::http {
namespace {

constexpr std::uint32_t kDefaultLimit = 50;
constexpr std::uint32_t kMaxLimit = 500;

using admin_json::error;
using admin_json::reply;

// A positive number parameter up to `max`.
std::optional<std::uint64_t> number_param(std::string_view text, std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, problem] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (problem != std::errc{} || end != text.data() + text.size() || value == 0 || value > max) {
        return std::nullopt;
    }
    return value;
}

boost::json::object member_json(const v1::Member& member) {
    return {{"memberId", member.member_id()},
            {"handle", member.handle()},
            {"role", v1::Role_Name(member.role())}};
}

// ?room=ID&before=X&limit=N, each optional: what a page of the audit log or of a room's
// history is asked with.
struct PageQuery {
    std::string room_id;
    std::string before;
    std::uint32_t limit = kDefaultLimit;
};

std::optional<PageQuery> page_query(std::string_view target, std::string& problem) {
    PageQuery query;
    const auto url = boost::urls::parse_origin_form(target);
    if (!url) {
        problem = "bad request target";
        return std::nullopt;
    }
    for (const auto& param : url->params()) {
        if (param.key == "room") {
            query.room_id = param.value;
        } else if (param.key == "before") {
            query.before = param.value;
        } else if (param.key == "limit") {
            const auto value = number_param(param.value, kMaxLimit);
            if (!value) {
                problem = "limit must be 1 to 500";
                return std::nullopt;
            }
            query.limit = static_cast<std::uint32_t>(*value);
        } else {
            problem = "unknown parameter";
            return std::nullopt;
        }
    }
    return query;
}

}  // namespace

AdminApi::AdminApi(const auth::JwtVerifier& tokens, AdminBackend backend)
    : tokens_(tokens), backend_(std::move(backend)) {}

void AdminApi::handle(std::string_view method, std::string_view target,
                      std::string_view authorization, std::string_view body,
                      std::function<void(HttpReply)> done) const {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.substr(0, kBearer.size()) != kBearer || !tokens_.enabled()) {
        return done(error(401, "an operator token is required"));
    }
    const auth::TokenResult token =
        tokens_.verify(authorization.substr(kBearer.size()), core::wall_seconds());
    if (!token.claims) return done(error(401, "the token was not accepted"));
    if (token.claims->role != auth::Role::operator_) {
        return done(error(403, "only operators may use the admin API"));
    }
    Call call{std::string(method), std::string(target), std::string(body), token.claims->subject,
              token.claims->handle};
    const std::string subject = call.operator_subject;
    backend_.banned(subject,
                    [this, call = std::move(call), done = std::move(done)](bool banned) mutable {
                        if (banned) return done(error(403, "this account is banned"));
                        serve(std::move(call), std::move(done));
                    });
}

void AdminApi::serve(Call call, std::function<void(HttpReply)> done) const {
    const auto url = boost::urls::parse_origin_form(call.target);
    if (!url) return done(error(400, "bad request target"));
    const std::string path = url->path();
    struct Route {
        std::string_view path;
        std::string_view method;
        void (AdminApi::*handler)(const Call&, Done) const;
    };
    static constexpr Route kRoutes[] = {
        {"/admin/audit", "GET", &AdminApi::audit_page},
        {"/admin/api/rooms", "GET", &AdminApi::rooms},
        {"/admin/api/presence", "GET", &AdminApi::presence},
        {"/admin/api/presence_stats", "GET", &AdminApi::presence_stats},
        {"/admin/api/history", "GET", &AdminApi::history},
        {"/admin/api/info", "GET", &AdminApi::info},
        {"/admin/api/disconnect", "POST", &AdminApi::disconnect},
        {"/admin/api/publish", "POST", &AdminApi::publish},
        {"/admin/api/history_remove", "POST", &AdminApi::history_remove},
        {"/admin/api/batch", "POST", &AdminApi::batch},
        {"/admin/api/rooms/open", "POST", &AdminApi::open_room},
        {"/admin/api/rooms/close", "POST", &AdminApi::close_room},
    };
    for (const Route& route : kRoutes) {
        if (path != route.path) continue;
        if (call.method != route.method) {
            return done(error(405, "use " + std::string(route.method)));
        }
        return (this->*route.handler)(call, std::move(done));
    }
    done(error(404, "no such admin endpoint"));
}

void AdminApi::audit_page(const Call& call, std::function<void(HttpReply)> done) const {
    std::string problem;
    auto query = page_query(call.target, problem);
    if (!query) return done(error(400, problem));
    backend_.read_audit(std::move(query->room_id), std::move(query->before), query->limit,
                        [done = std::move(done)](std::optional<v1::AuditPage> page) {
                            if (!page) {
                                return done(error(503, "the audit log cannot be read now"));
                            }
                            done(reply(200, admin_json::from_message(*page)));
                        });
}

void AdminApi::rooms(const Call& call, Done done) const {
    record(call, "api_rooms", "rooms", "");
    // Every room's presence is read at once; the answer goes out when the last one is in.
    struct Gather {
        std::mutex mutex;
        std::vector<rooms::RoomRef> rooms;  // the configured ones, then those opened at run time
        std::size_t configured = 0;
        std::vector<std::optional<std::size_t>> counts;
        std::size_t waiting = 0;
        std::function<void(HttpReply)> done;
    };
    auto gather = std::make_shared<Gather>();
    for (const config::RoomConfig& room : backend_.directory->all()) {
        gather->rooms.push_back(backend_.directory->find(room.id));
    }
    gather->configured = gather->rooms.size();
    for (rooms::RoomRef& room : backend_.directory->runtime_rooms()) {
        gather->rooms.push_back(std::move(room));
    }
    const auto& all = gather->rooms;
    gather->counts.resize(all.size());
    gather->waiting = all.size();
    gather->done = std::move(done);
    const auto answer = [gather] {
        boost::json::array rooms;
        for (std::size_t i = 0; i < gather->rooms.size(); ++i) {
            const config::RoomConfig& config = *gather->rooms[i];
            boost::json::object room{{"id", config.id},
                                     {"title", config.title},
                                     {"kind", config::to_string(config.kind)},
                                     {"capacity", config.capacity},
                                     {"openedAtRunTime", i >= gather->configured}};
            if (gather->counts[i]) {
                room["members"] = *gather->counts[i];
            } else {
                room["members"] = nullptr;  // the broker could not say
            }
            rooms.push_back(std::move(room));
        }
        gather->done(reply(200, boost::json::object{{"rooms", std::move(rooms)}}));
    };
    if (all.empty()) return answer();
    for (std::size_t i = 0; i < all.size(); ++i) {
        backend_.presence(all[i]->id,
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

void AdminApi::presence(const Call& call, Done done) const {
    members(call, false, std::move(done));
}

void AdminApi::presence_stats(const Call& call, Done done) const {
    members(call, true, std::move(done));
}

void AdminApi::members(const Call& call, bool stats, Done done) const {
    const auto url = boost::urls::parse_origin_form(call.target);
    std::string room_id;
    for (const auto& param : url->params()) {
        if (param.key != "room") return done(error(400, "unknown parameter"));
        room_id = param.value;
    }
    if (backend_.directory->find(room_id) == nullptr) {
        return done(error(404, "no such room"));
    }
    record(call, stats ? "api_presence_stats" : "api_presence", "room " + room_id, "", room_id);
    backend_.presence(room_id, [room_id, stats, done = std::move(done)](
                                   std::optional<std::vector<v1::Member>> members) {
        if (!members) return done(error(503, "the room cannot be read now; try again"));
        if (stats) {
            // One person on two devices is two connections and one handle.
            std::set<std::string> handles;
            for (const v1::Member& member : *members) handles.insert(member.handle());
            return done(reply(200, boost::json::object{{"room", room_id},
                                                       {"connections", members->size()},
                                                       {"people", handles.size()}}));
        }
        boost::json::array list;
        for (const v1::Member& member : *members) list.push_back(member_json(member));
        done(reply(200, boost::json::object{{"room", room_id}, {"members", std::move(list)}}));
    });
}

void AdminApi::history(const Call& call, std::function<void(HttpReply)> done) const {
    std::string problem;
    const auto query = page_query(call.target, problem);
    if (!query) return done(error(400, problem));
    std::uint64_t before_seq = 0;
    if (!query->before.empty()) {
        const auto value = number_param(query->before, UINT64_MAX);
        if (!value) return done(error(400, "before must be a post number"));
        before_seq = *value;
    }
    const std::string& room_id = query->room_id;
    if (backend_.directory->find(room_id) == nullptr) return done(error(404, "no such room"));
    record(call, "api_history", "room " + room_id, "", room_id);
    backend_.history(
        room_id, before_seq, query->limit,
        [room_id, done = std::move(done)](std::optional<AdminBackend::HistoryView> view) {
            if (!view) return done(error(503, "the room cannot be read now; try again"));
            const std::set<std::uint64_t> hidden(view->hidden.begin(), view->hidden.end());
            boost::json::array events;
            for (const v1::Event& event : view->events) {
                boost::json::object json = admin_json::from_message(event);
                // Moderators see hidden posts, and that they are hidden.
                if (event.has_posted()) json["hidden"] = hidden.count(event.seq()) != 0;
                events.push_back(std::move(json));
            }
            done(reply(200, boost::json::object{{"room", room_id},
                                                {"events", std::move(events)},
                                                {"oldestSeq", view->oldest_seq},
                                                {"lastSeq", view->last_seq},
                                                {"hasMore", view->has_more}}));
        });
}

void AdminApi::info(const Call& call, Done done) const {
    record(call, "api_info", "instances", "");
    backend_.instances(
        [done = std::move(done)](std::optional<std::vector<v1::InstanceInfo>> instances) {
            if (!instances) return done(error(503, "the broker cannot be reached; try again"));
            boost::json::array list;
            for (const v1::InstanceInfo& instance : *instances) {
                list.push_back(admin_json::from_message(instance));
            }
            done(reply(200, boost::json::object{{"instances", std::move(list)}}));
        });
}

}  // namespace haven::http
