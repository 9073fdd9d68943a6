// Decoding of client frames and encoding of server messages in the two encodings Haven
// speaks: protobuf in binary frames, protobuf's JSON mapping in text frames.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "haven.pb.h"

namespace haven::protocol {

enum class Encoding : unsigned char { binary, json };

// An encoded frame, immutable once built, shared by every session that sends it.
using Frame = std::shared_ptr<const std::string>;

// Subprotocol names negotiated in the WebSocket upgrade.
inline constexpr std::string_view kBinarySubprotocol = "haven.v1.proto";
inline constexpr std::string_view kJsonSubprotocol = "haven.v1.json";

// Decodes one client frame. Returns false (and leaves `out` unspecified) when the bytes are
// not a valid message of this encoding; never throws.
bool decode_client(std::string_view bytes, Encoding encoding, v1::ClientMessage& out);

// Encodes one server message. Never fails for messages the server builds itself.
std::string encode_server(const v1::ServerMessage& message, Encoding encoding);
Frame encode_server_frame(const v1::ServerMessage& message, Encoding encoding);

// For the tests and tools that play the client.
std::string encode_client(const v1::ClientMessage& message, Encoding encoding);
bool decode_server(std::string_view bytes, Encoding encoding, v1::ServerMessage& out);

// libprotobuf logs one line per failed parse (e.g. invalid UTF-8 in a string field); with
// untrusted input that is a log-flood vector, so the server routes those lines to debug level.
void install_quiet_protobuf_logging();

}  // namespace haven::protocol
