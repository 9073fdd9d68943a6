// Haven's protobuf messages as the load generator needs them. Control messages (Hello, Join)
// are built with the generated classes, once per connection. The hot paths, a Post sent and
// an Event received, are encoded and walked by hand: no message object, no allocation, and
// only the fields the measurement needs (Event.seq and Posted.client_msg_id, which carries
// the publish time) are looked at; unknown fields are skipped, so additions to the schema do
// not break the tool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace haven::load::wire {

// Request ids the generator uses for its control requests; posts count up from kFirstPostId.
inline constexpr std::uint64_t kHelloId = 1;
inline constexpr std::uint64_t kJoinId = 2;
inline constexpr std::uint64_t kFirstPostId = 16;

// `room_list`: whether the Welcome should carry the room list (omit_rooms = !room_list).
std::string encode_hello(std::uint64_t request_id, bool room_list);
std::string encode_join(std::uint64_t request_id, std::string_view room_id);

// client_msg_id is exactly this many lowercase hex digits: the publish time in CLOCK_MONOTONIC
// nanoseconds. Unique per author as long as one publisher never posts twice in the same
// nanosecond, which the caller guarantees.
inline constexpr std::size_t kStampDigits = 16;

// Upper bound of encode_post's output for a room id and text of these sizes.
inline constexpr std::size_t post_bytes_bound(std::size_t room, std::size_t text) {
    return 11 + 1 + 5 + (1 + 5 + room) + (1 + 5 + text) + (1 + 1 + kStampDigits);
}

// Writes ClientMessage{request_id, post: {room_id, text, client_msg_id: stamp}} to `out`
// (at least post_bytes_bound(...) bytes). Returns the length.
std::size_t encode_post(char* out, std::uint64_t request_id, std::string_view room_id,
                        std::string_view text, std::uint64_t stamp_ns);

// What the generator wants to know about one ServerMessage.
enum class Kind : std::uint8_t {
    malformed,
    other,
    welcome,
    joined,
    ack,
    event_posted,  // an Event carrying Posted
    event_other,   // presence, typing, moderation events
    error,
    reconnect,
};

struct Summary {
    Kind kind = Kind::other;
    std::uint64_t request_id = 0;
    std::uint64_t seq = 0;         // Event.seq; Joined.last_seq
    std::int64_t sent_ns = -1;     // event_posted from this tool: the publish time
    std::uint32_t error_code = 0;  // Error.code
    std::string_view body;         // the body message's bytes (for rare, detailed decoding)
};

// Walks the wire format; never throws, never allocates.
Summary summarize(const char* data, std::size_t size);

// "CODE_NAME: message" of an Error body, using the generated classes (rare path).
std::string describe_error(std::string_view body);

}  // namespace haven::load::wire
