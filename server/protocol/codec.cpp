#include "protocol/codec.hpp"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <spdlog/spdlog.h>

namespace haven::protocol {
namespace {

namespace pbutil = google::protobuf::util;

bool parse_json(std::string_view bytes, google::protobuf::Message& out) {
    pbutil::JsonParseOptions options;
    // Newer clients may send fields this server does not know yet; ignoring them keeps old
    // servers usable. A message with no known body is still reported as UNKNOWN_MESSAGE.
    options.ignore_unknown_fields = true;
    return pbutil::JsonStringToMessage(bytes, &out, options).ok();
}

std::string print_json(const google::protobuf::Message& message) {
    pbutil::JsonPrintOptions options;
    options.always_print_primitive_fields = false;
    options.preserve_proto_field_names = false;
    std::string json;
    // Printing a message the process built itself only fails on invalid UTF-8, which the
    // server rejects before it stores any text.
    (void)pbutil::MessageToJsonString(message, &json, options);
    return json;
}

bool decode_any(std::string_view bytes, Encoding encoding, google::protobuf::Message& out) {
    if (encoding == Encoding::json) return parse_json(bytes, out);
    return out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

std::string encode_any(const google::protobuf::Message& message, Encoding encoding) {
    if (encoding == Encoding::json) return print_json(message);
    return message.SerializeAsString();
}

}  // namespace

bool decode_client(std::string_view bytes, Encoding encoding, v1::ClientMessage& out) {
    return decode_any(bytes, encoding, out);
}

std::string encode_server(const v1::ServerMessage& message, Encoding encoding) {
    return encode_any(message, encoding);
}

Frame encode_server_frame(const v1::ServerMessage& message, Encoding encoding) {
    return std::make_shared<const std::string>(encode_server(message, encoding));
}

std::string encode_client(const v1::ClientMessage& message, Encoding encoding) {
    return encode_any(message, encoding);
}

bool decode_server(std::string_view bytes, Encoding encoding, v1::ServerMessage& out) {
    return decode_any(bytes, encoding, out);
}

void install_quiet_protobuf_logging() {
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel level, const char* file, int line, const std::string&) {
            // The message may quote untrusted bytes, so only its origin is kept.
            if (level >= google::protobuf::LOGLEVEL_FATAL) {
                spdlog::critical("protobuf fatal at {}:{}", file, line);
            } else {
                spdlog::debug("protobuf diagnostic at {}:{}", file, line);
            }
        });
}

}  // namespace haven::protocol
