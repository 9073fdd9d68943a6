#include "http/admin_json.hpp"

#include <google/protobuf/util/json_util.h>

namespace haven::http::admin_json {

HttpReply reply(unsigned status, const boost::json::value& value) {
    HttpReply out;
    out.status = status;
    out.content_type = "application/json";
    out.body = boost::json::serialize(value) + "\n";
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

HttpReply error(unsigned status, std::string_view message) {
    HttpReply out = reply(status, boost::json::object{{"error", message}});
    if (status == 401) out.headers.emplace_back("WWW-Authenticate", "Bearer");
    return out;
}

boost::json::object from_message(const google::protobuf::Message& message) {
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    std::string text;
    (void)google::protobuf::util::MessageToJsonString(message, &text, options);
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec || !value.is_object()) return {};
    return std::move(value.as_object());
}

std::optional<boost::json::object> parse_object(std::string_view body) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.as_object());
}

std::optional<std::string> string_field(const boost::json::object& fields, std::string_view name,
                                        std::size_t max_bytes) {
    const boost::json::value* value = fields.if_contains(name);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    const boost::json::string& text = value->as_string();
    if (text.empty() || text.size() > max_bytes) return std::nullopt;
    return std::string(text);
}

}  // namespace haven::http::admin_json
