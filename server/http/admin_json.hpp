// JSON in and out for the admin API: replies, errors, and the fields of a request body.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <boost/json.hpp>

#include "http/http_routes.hpp"

namespace haven::http::admin_json {

HttpReply reply(unsigned status, const boost::json::value& value);
HttpReply error(unsigned status, std::string_view message);
// A protobuf message as the JSON object its canonical mapping gives (camelCase names, every
// field present).
boost::json::object from_message(const google::protobuf::Message& message);

// A POST body: a JSON object, or nothing when it is not one.
std::optional<boost::json::object> parse_object(std::string_view body);
// A string field of 1 to `max_bytes` bytes, or nothing when it is missing, not a string,
// empty or longer.
std::optional<std::string> string_field(const boost::json::object& fields, std::string_view name,
                                        std::size_t max_bytes);

}  // namespace haven::http::admin_json
