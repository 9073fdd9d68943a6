#include "wire.hpp"

#include "haven.pb.h"

namespace haven::load::wire {
namespace {

// Field numbers from proto/haven.proto, in the messages the walker reads.
constexpr std::uint32_t kServerRequestId = 1;
constexpr std::uint32_t kServerWelcome = 10;
constexpr std::uint32_t kServerJoined = 11;
constexpr std::uint32_t kServerAck = 12;
constexpr std::uint32_t kServerEvent = 13;
constexpr std::uint32_t kServerError = 14;
constexpr std::uint32_t kServerReconnect = 18;
constexpr std::uint32_t kJoinedLastSeq = 5;
constexpr std::uint32_t kEventSeq = 2;
constexpr std::uint32_t kEventPosted = 10;
constexpr std::uint32_t kPostedClientMsgId = 3;
constexpr std::uint32_t kErrorCode = 1;

constexpr std::uint32_t kClientPost = 13;

enum WireType : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct Reader {
    const unsigned char* p;
    const unsigned char* end;

    bool varint_value(std::uint64_t& out) {
        std::uint64_t value = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (p == end) return false;
            const unsigned char byte = *p++;
            value |= std::uint64_t{byte & 0x7Fu} << shift;
            if ((byte & 0x80) == 0) {
                out = value;
                return true;
            }
        }
        return false;
    }

    // Reads a tag; false at the end or on malformed input (`ok` tells which).
    bool next(std::uint32_t& field, std::uint32_t& type, bool& ok) {
        if (p == end) return false;
        std::uint64_t tag = 0;
        if (!varint_value(tag) || (tag >> 3) == 0) {
            ok = false;
            return false;
        }
        field = static_cast<std::uint32_t>(tag >> 3);
        type = static_cast<std::uint32_t>(tag & 7);
        return true;
    }

    bool bytes(std::string_view& out) {
        std::uint64_t length = 0;
        if (!varint_value(length) || length > static_cast<std::uint64_t>(end - p)) return false;
        out = std::string_view(reinterpret_cast<const char*>(p), length);
        p += length;
        return true;
    }

    bool skip(std::uint32_t type) {
        std::uint64_t ignored = 0;
        std::string_view ignored_bytes;
        switch (type) {
            case varint:
                return varint_value(ignored);
            case fixed64:
                if (end - p < 8) return false;
                p += 8;
                return true;
            case length_delimited:
                return bytes(ignored_bytes);
            case fixed32:
                if (end - p < 4) return false;
                p += 4;
                return true;
            default:
                return false;  // groups are not proto3
        }
    }
};

Reader reader(std::string_view bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    return Reader{p, p + bytes.size()};
}

// 16 lowercase hex digits back to a number; -1 when it is not one of the tool's stamps (a post
// from some other client in the same room).
std::int64_t parse_stamp(std::string_view id) {
    if (id.size() != kStampDigits) return -1;
    std::uint64_t value = 0;
    for (char c : id) {
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else {
            return -1;
        }
        value = (value << 4) | digit;
    }
    return static_cast<std::int64_t>(value);
}

void summarize_event(std::string_view body, Summary& out) {
    Reader r = reader(body);
    std::uint32_t field = 0, type = 0;
    bool ok = true;
    out.kind = Kind::event_other;
    while (r.next(field, type, ok)) {
        if (field == kEventSeq && type == varint) {
            if (!r.varint_value(out.seq)) break;
        } else if (field == kEventPosted && type == length_delimited) {
            std::string_view posted;
            if (!r.bytes(posted)) break;
            out.kind = Kind::event_posted;
            Reader pr = reader(posted);
            std::uint32_t pfield = 0, ptype = 0;
            bool pok = true;
            while (pr.next(pfield, ptype, pok)) {
                if (pfield == kPostedClientMsgId && ptype == length_delimited) {
                    std::string_view id;
                    if (!pr.bytes(id)) break;
                    out.sent_ns = parse_stamp(id);
                } else if (!pr.skip(ptype)) {
                    break;
                }
            }
        } else if (!r.skip(type)) {
            out.kind = Kind::malformed;
            return;
        }
    }
    if (!ok) out.kind = Kind::malformed;
}

std::uint64_t find_varint(std::string_view body, std::uint32_t wanted) {
    Reader r = reader(body);
    std::uint32_t field = 0, type = 0;
    bool ok = true;
    while (r.next(field, type, ok)) {
        if (field == wanted && type == varint) {
            std::uint64_t value = 0;
            return r.varint_value(value) ? value : 0;
        }
        if (!r.skip(type)) break;
    }
    return 0;
}

char* put_varint(char* out, std::uint64_t value) {
    while (value >= 0x80) {
        *out++ = static_cast<char>(value | 0x80);
        value >>= 7;
    }
    *out++ = static_cast<char>(value);
    return out;
}

std::size_t varint_size(std::uint64_t value) {
    std::size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++n;
    }
    return n;
}

char* put_bytes(char* out, std::uint32_t field, std::string_view bytes) {
    out = put_varint(out, (field << 3) | length_delimited);
    out = put_varint(out, bytes.size());
    for (char c : bytes) *out++ = c;
    return out;
}

}  // namespace

std::string encode_hello(std::uint64_t request_id, bool room_list) {
    v1::ClientMessage message;
    message.set_request_id(request_id);
    v1::Hello* hello = message.mutable_hello();
    hello->set_guest(true);
    hello->set_client("haven-load");
    hello->set_omit_rooms(!room_list);
    return message.SerializeAsString();
}

std::string encode_join(std::uint64_t request_id, std::string_view room_id) {
    v1::ClientMessage message;
    message.set_request_id(request_id);
    message.mutable_join()->set_room_id(std::string(room_id));
    return message.SerializeAsString();
}

std::size_t encode_post(char* out, std::uint64_t request_id, std::string_view room_id,
                        std::string_view text, std::uint64_t stamp_ns) {
    char stamp[kStampDigits];
    for (std::size_t i = 0; i < kStampDigits; ++i) {
        const unsigned digit =
            static_cast<unsigned>(stamp_ns >> (4 * (kStampDigits - 1 - i))) & 0xF;
        stamp[i] = static_cast<char>(digit < 10 ? '0' + digit : 'a' + digit - 10);
    }
    const std::string_view stamp_view(stamp, kStampDigits);
    const std::size_t post_size = 1 + varint_size(room_id.size()) + room_id.size() + 1 +
                                  varint_size(text.size()) + text.size() + 1 + 1 + kStampDigits;
    char* p = out;
    p = put_varint(p, (1u << 3) | varint);
    p = put_varint(p, request_id);
    p = put_varint(p, (kClientPost << 3) | length_delimited);
    p = put_varint(p, post_size);
    p = put_bytes(p, 1, room_id);
    p = put_bytes(p, 2, text);
    p = put_bytes(p, 3, stamp_view);
    return static_cast<std::size_t>(p - out);
}

Summary summarize(const char* data, std::size_t size) {
    Summary out;
    Summary malformed;
    malformed.kind = Kind::malformed;
    Reader r = reader(std::string_view(data, size));
    std::uint32_t field = 0, type = 0;
    bool ok = true;
    while (r.next(field, type, ok)) {
        if (field == kServerRequestId && type == varint) {
            if (!r.varint_value(out.request_id)) return malformed;
            continue;
        }
        if (type != length_delimited) {
            if (!r.skip(type)) return malformed;
            continue;
        }
        std::string_view body;
        if (!r.bytes(body)) return malformed;
        out.body = body;
        switch (field) {
            case kServerWelcome:
                out.kind = Kind::welcome;
                break;
            case kServerJoined:
                out.kind = Kind::joined;
                out.seq = find_varint(body, kJoinedLastSeq);
                break;
            case kServerAck:
                out.kind = Kind::ack;
                break;
            case kServerEvent:
                summarize_event(body, out);
                break;
            case kServerError:
                out.kind = Kind::error;
                out.error_code = static_cast<std::uint32_t>(find_varint(body, kErrorCode));
                break;
            case kServerReconnect:
                out.kind = Kind::reconnect;
                break;
            default:
                out.kind = Kind::other;
                break;
        }
    }
    if (!ok) out.kind = Kind::malformed;
    return out;
}

std::string describe_error(std::string_view body) {
    v1::Error error;
    if (!error.ParseFromArray(body.data(), static_cast<int>(body.size())))
        return "undecodable Error";
    return v1::ErrorCode_Name(error.code()) + ": " + error.message();
}

}  // namespace haven::load::wire
