#include "http/admin_api.hpp"

#include <charconv>

#include <google/protobuf/util/json_util.h>
#include <boost/url/parse.hpp>

#include "core/clock.hpp"

namespace haven::http {
namespace {

constexpr std::uint32_t kDefaultLimit = 50;
constexpr std::uint32_t kMaxLimit = 500;

HttpReply json_error(unsigned status, std::string_view message) {
    HttpReply reply;
    reply.status = status;
    reply.content_type = "application/json";
    reply.body = "{\"error\":\"" + std::string(message) + "\"}\n";
    reply.headers.emplace_back("Cache-Control", "no-store");
    if (status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
    return reply;
}

}  // namespace

AdminApi::AdminApi(const auth::JwtVerifier& tokens, AuditReader read_audit, BanCheck banned)
    : tokens_(tokens), read_audit_(std::move(read_audit)), banned_(std::move(banned)) {}

void AdminApi::handle(std::string_view method, std::string_view target,
                      std::string_view authorization, std::function<void(HttpReply)> done) const {
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
    if (method != "GET") return done(json_error(405, "use GET"));
    banned_(token.claims->subject,
            [this, target = std::string(target), done = std::move(done)](bool banned) mutable {
                if (banned) return done(json_error(403, "this account is banned"));
                serve(target, std::move(done));
            });
}

void AdminApi::serve(std::string_view target, std::function<void(HttpReply)> done) const {
    const auto url = boost::urls::parse_origin_form(target);
    if (!url) return done(json_error(400, "bad request target"));
    if (url->path() != "/admin/audit") return done(json_error(404, "no such admin endpoint"));

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
    read_audit_(std::move(room_id), std::move(before_id), limit,
                [done = std::move(done)](std::optional<v1::AuditPage> page) {
                    if (!page) return done(json_error(503, "the audit log cannot be read now"));
                    HttpReply reply;
                    reply.content_type = "application/json";
                    google::protobuf::util::JsonPrintOptions options;
                    options.always_print_primitive_fields = true;
                    (void)google::protobuf::util::MessageToJsonString(*page, &reply.body, options);
                    reply.headers.emplace_back("Cache-Control", "no-store");
                    done(std::move(reply));
                });
}

}  // namespace haven::http
