// Loading and validation of the TOML configuration. Everything is checked here, up front, and
// every failure is one line naming the exact key: a server that silently ignored a misspelt
// limit would run with settings nobody chose, which matters more than usual for a service
// people turn to when they are struggling.
// Over 400 lines: every option's key, default and range in one loader, so none is missed.
#include "config/config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <arpa/inet.h>
#include <date/tz.h>
#include <sys/socket.h>
#include <toml++/toml.h>

#include "config/local_time_text.hpp"
#include "config/toml_hazards.hpp"

namespace haven::config {
namespace {

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;
constexpr std::int64_t kMinTimeoutMs = 100;
constexpr std::int64_t kMaxTimeoutMs = 60 * 60 * 1000;
constexpr std::int64_t kYearSeconds = 365 * 24 * 60 * 60;
constexpr double kMaxPostsPerSecond = 1000.0;

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output (256 bits);
// shorter secrets make forging identity tokens practical.
constexpr std::size_t kMinJwtSecretBytes = 32;

// A metrics token shorter than this could be guessed; one longer than this is not a token.
constexpr std::size_t kMinBearerTokenBytes = 16;
constexpr std::size_t kMaxBearerTokenBytes = 1024;

// Room titles and topics are shown in every client's room list; bound them so one config line
// cannot break the layout or bloat every Joined message.
constexpr std::size_t kMaxTitleBytes = 200;
constexpr std::size_t kMaxTopicBytes = 500;
constexpr std::size_t kMaxRoomIdBytes = 64;

// Longest stretch of a bad value echoed in a message; enough to recognise it, not enough to
// flood a log line.
constexpr std::size_t kMaxQuotedBytes = 80;

bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

bool has_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), is_control);
}

// Messages must stay on one line (one log line, one systemd status line); keys and values come
// from the file and could otherwise smuggle a line break in.
std::string one_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) out += is_control(c) ? ' ' : c;
    return out;
}

[[noreturn]] void raise_at(std::string_view source, std::string_view what) {
    std::string message = "config";
    if (!source.empty()) {
        message += ' ';
        message += source;
    }
    message += ": ";
    message += what;
    throw ConfigError(one_line(message));
}

[[noreturn]] void raise(std::string_view source, std::string_view key, std::string_view what) {
    std::string message(key);
    message += ": ";
    message += what;
    raise_at(source, message);
}

// A value as shown in a message: quoted, escaped, and cut at a UTF-8 character boundary.
std::string printable(std::string_view value) {
    std::size_t length = value.size();
    if (length > kMaxQuotedBytes) {
        length = kMaxQuotedBytes;
        while (length > 0 && (static_cast<unsigned char>(value[length]) & 0xC0) == 0x80) {
            --length;
        }
    }
    std::string out = "\"";
    for (char c : value.substr(0, length)) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (is_control(c)) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
            out += escaped;
        } else {
            out += c;
        }
    }
    if (length < value.size()) out += "...";
    out += '"';
    return out;
}

std::string format_double(double value) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

template <typename Words>
std::string join(const Words& words) {
    std::string out;
    for (std::string_view word : words) {
        if (!out.empty()) out += ", ";
        out += word;
    }
    return out;
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::none:
            return "nothing";
        case toml::node_type::table:
            return "table";
        case toml::node_type::array:
            return "array";
        case toml::node_type::string:
            return "string";
        case toml::node_type::integer:
            return "integer";
        case toml::node_type::floating_point:
            return "float";
        case toml::node_type::boolean:
            return "boolean";
        case toml::node_type::date:
            return "date";
        case toml::node_type::time:
            return "time";
        case toml::node_type::date_time:
            return "date-time";
    }
    return "unknown";
}

std::string expected(std::string_view what, const toml::node& node) {
    return "must be " + std::string(what) + " (got " + std::string(type_name(node)) + ")";
}

std::string between(std::int64_t min, std::int64_t max, std::int64_t got) {
    return "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
           std::to_string(got) + ")";
}

// Validators shared by the file and the environment; they return what is wrong, if anything.
using Problem = std::optional<std::string>;

Problem check_text(std::string_view value) {
    if (has_control(value)) return "must not contain control characters or line breaks";
    return std::nullopt;
}

Problem check_secret(std::string_view value) {
    if (value.empty()) return std::nullopt;  // empty disables HS256
    if (has_control(value)) return "must not contain control characters";
    if (value.size() < kMinJwtSecretBytes) {
        // Never echo a secret, even a bad one: error messages end up in logs.
        return "must be at least " + std::to_string(kMinJwtSecretBytes) + " bytes for HS256 (got " +
               std::to_string(value.size()) + ")";
    }
    return std::nullopt;
}

// A static bearer token: long enough not to be guessed, and in the token68 alphabet of RFC 7235
// so that it travels unchanged in an Authorization header.
Problem check_bearer_token(std::string_view value) {
    if (value.empty()) return std::nullopt;  // empty: no token asked for
    const bool token68 = std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
    });
    // Never echo the token, even a bad one: error messages end up in logs.
    if (!token68) return "must consist of letters, digits and -._~+/= only";
    if (value.size() < kMinBearerTokenBytes || value.size() > kMaxBearerTokenBytes) {
        return "must be " + std::to_string(kMinBearerTokenBytes) + " to " +
               std::to_string(kMaxBearerTokenBytes) + " bytes (got " +
               std::to_string(value.size()) + ")";
    }
    return std::nullopt;
}

// An IP address or a CIDR network ("10.0.0.0/8", "fd00::/8"), for trusted proxies.
Problem check_network(std::string_view value) {
    const std::size_t slash = value.find('/');
    const std::string address(value.substr(0, slash));
    unsigned char bytes[16];
    int max_prefix = 0;
    if (::inet_pton(AF_INET, address.c_str(), bytes) == 1) {
        max_prefix = 32;
    } else if (::inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
        max_prefix = 128;
    } else {
        return "must be an IP address or a network such as 10.0.0.0/8 (got " + printable(value) +
               ")";
    }
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view prefix = value.substr(slash + 1);
    int length = -1;
    const auto [end, error] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), length);
    if (error != std::errc{} || end != prefix.data() + prefix.size() || length < 0 ||
        length > max_prefix) {
        return "the prefix length must be 0 to " + std::to_string(max_prefix) + " (got " +
               printable(value) + ")";
    }
    return std::nullopt;
}

// The shape of an OpenSSL cipher list; which suites it selects is checked against OpenSSL
// itself at start (app/startup_checks).
Problem check_cipher_list(std::string_view value) {
    const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ':' || c == '+' || c == '-' || c == '!' || c == '@' || c == '=' || c == '_' ||
               c == '.';
    });
    if (value.empty() || !plain) {
        return "must be an OpenSSL cipher list, names separated by ':' (got " + printable(value) +
               ")";
    }
    return std::nullopt;
}

Problem check_redis_url(std::string_view value) {
    // No rediss://: Debian's hiredis 0.14 has no TLS, so such a URL could never connect.
    for (std::string_view scheme : {"redis://", "unix://"}) {
        if (value.size() > scheme.size() && value.substr(0, scheme.size()) == scheme) {
            if (has_control(value) || value.find(' ') != std::string_view::npos) {
                return "must not contain spaces or control characters";
            }
            return std::nullopt;
        }
    }
    return "must start with redis:// or unix:// (got " + printable(value) + ")";
}

// Browsers send Origin as scheme://host[:port], lower case, with no path and no trailing slash;
// an entry written any other way would never match and would lock every client out.
Problem check_origin(std::string_view value) {
    std::string_view rest;
    if (value.substr(0, 7) == "http://") {
        rest = value.substr(7);
    } else if (value.substr(0, 8) == "https://") {
        rest = value.substr(8);
    } else {
        return "must start with http:// or https:// (got " + printable(value) + ")";
    }
    if (rest.empty()) return "must name a host (got " + printable(value) + ")";
    if (rest.find('/') != std::string_view::npos) {
        return "must be scheme://host[:port] without a path or trailing slash (got " +
               printable(value) + ")";
    }
    const bool bad_char = std::any_of(rest.begin(), rest.end(), [](char c) {
        return is_control(c) || c == ' ' || (c >= 'A' && c <= 'Z');
    });
    if (bad_char) {
        return "must be lower case without spaces, as browsers send it (got " + printable(value) +
               ")";
    }
    return std::nullopt;
}

// Room ids travel on the wire and may end up in Redis keys and URLs, hence the narrow alphabet.
Problem check_room_id(std::string_view value) {
    const bool valid_chars = std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (value.empty() || value.size() > kMaxRoomIdBytes || !valid_chars) {
        return "must be 1 to 64 characters of a-z, 0-9, _ and - (got " + printable(value) + ")";
    }
    return std::nullopt;
}

Problem check_port(std::string_view text) {
    std::int64_t port = 0;
    const char* end = text.data() + text.size();
    const auto result = std::from_chars(text.data(), end, port);
    if (result.ec != std::errc() || result.ptr != end || port < 1 || port > 65535) {
        return "must be an integer between 1 and 65535 (got " + printable(text) + ")";
    }
    return std::nullopt;
}

// Both or neither: a certificate without its key (or the reverse) cannot serve TLS, and
// quietly falling back to plain ws:// would expose conversations.
void check_tls_pair(const TlsConfig& tls, std::string_view source) {
    if (!tls.cert_file.empty() && tls.key_file.empty()) {
        raise(source, "tls.key", "must be set when tls.cert is set (both or neither)");
    }
    if (tls.cert_file.empty() && !tls.key_file.empty()) {
        raise(source, "tls.cert", "must be set when tls.key is set (both or neither)");
    }
}

// One TOML table being read. Errors name keys relative to the table's dotted path.
class Section {
public:
    Section(const toml::table& table, std::string path, std::string_view source)
        : table_(table), path_(std::move(path)), source_(source) {}

    std::string key_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

    [[noreturn]] void fail(std::string_view key, std::string_view what) const {
        raise(source_, key_path(key), what);
    }

    void fail_if(std::string_view key, const Problem& problem) const {
        if (problem) fail(key, *problem);
    }

    // Runs before any value is read so that a misspelt key is reported as a typo instead of
    // the intended option silently keeping its default.
    void allow_only(std::initializer_list<std::string_view> known) const {
        for (auto&& [key, node] : table_) {
            if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
            const bool is_table = node.is_table() || node.is_array_of_tables();
            fail(key.str(), std::string(is_table ? "unknown table" : "unknown key") +
                                " (expected one of: " + join(known) + ")");
        }
    }

    // The read functions leave `out` untouched and return false when the key is absent, so
    // the struct's default stays in place.
    bool read(std::string_view key, bool& out) const {
        const toml::node* node = table_.get(key);
        if (node == nullptr) return false;
        const auto* value = node->as_boolean();
        if (value == nullptr) fail(key, expected("true or false", *node));
        out = value->get();
        return true;
    }

    bool read(std::string_view key, std::string& out) const {
        const toml::node* node = table_.get(key);
        if (node == nullptr) return false;
        const auto* value = node->as_string();
        if (value == nullptr) fail(key, expected("a string", *node));
        out = value->get();
        return true;
    }

    // Plain text shown or used verbatim: strings with control characters are refused.
    bool read_text(std::string_view key, std::string& out) const {
        const bool present = read(key, out);
        if (present) fail_if(key, check_text(out));
        return present;
    }

    template <typename T>
    bool read(std::string_view key, T& out, std::int64_t min, std::int64_t max) const {
        const toml::node* node = table_.get(key);
        if (node == nullptr) return false;
        const auto* value = node->as_integer();
        if (value == nullptr) fail(key, expected("an integer", *node));
        const std::int64_t number = value->get();
        if (number < min || number > max) fail(key, between(min, max, number));
        out = static_cast<T>(number);
        return true;
    }

    // A rate in (0, max]: written either as 5 or 5.0, since both read naturally.
    bool read_rate(std::string_view key, double& out, double max) const {
        const toml::node* node = table_.get(key);
        if (node == nullptr) return false;
        double number = 0.0;
        if (const auto* floating = node->as_floating_point()) {
            number = floating->get();
        } else if (const auto* integer = node->as_integer()) {
            number = static_cast<double>(integer->get());
        } else {
            fail(key, expected("a number", *node));
        }
        // Written so that NaN fails too.
        if (!(number > 0.0 && number <= max)) {
            fail(key, "must be greater than 0 and at most " + format_double(max) + " (got " +
                          format_double(number) + ")");
        }
        out = number;
        return true;
    }

    bool read(std::string_view key, std::vector<std::string>& out) const {
        const toml::node* node = table_.get(key);
        if (node == nullptr) return false;
        const toml::array* array = node->as_array();
        if (array == nullptr) fail(key, expected("an array of strings", *node));
        std::vector<std::string> values;
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = (*array)[i];
            const std::string element_key = std::string(key) + "[" + std::to_string(i) + "]";
            const auto* value = element.as_string();
            if (value == nullptr) fail(element_key, expected("a string", element));
            values.push_back(value->get());
        }
        out = std::move(values);
        return true;
    }

    std::string_view source() const { return source_; }

private:
    const toml::table& table_;
    std::string path_;
    std::string_view source_;
};

void parse_server(const Section& s, ServerConfig& server) {
    s.allow_only({"address", "port", "shards", "static_dir", "static_follow_symlinks",
                  "static_max_file_bytes", "allowed_origins", "drain_grace_ms", "metrics_token",
                  "trusted_proxies"});
    if (s.read_text("address", server.address)) {
        if (server.address.empty() || server.address.find(' ') != std::string::npos) {
            s.fail("address",
                   "must be a host name or IP address (got " + printable(server.address) + ")");
        }
    }
    s.read("port", server.port, 1, 65535);
    s.read("shards", server.shards, 0, 256);
    s.read("drain_grace_ms", server.drain_grace_ms, 0, 600'000);
    s.read_text("static_dir", server.static_dir);  // empty = serve no static files
    s.read("static_follow_symlinks", server.static_follow_symlinks);
    s.read("static_max_file_bytes", server.static_max_file_bytes, kKiB, kGiB);
    if (s.read("allowed_origins", server.allowed_origins)) {
        for (std::size_t i = 0; i < server.allowed_origins.size(); ++i) {
            s.fail_if("allowed_origins[" + std::to_string(i) + "]",
                      check_origin(server.allowed_origins[i]));
        }
    }
    if (s.read("metrics_token", server.metrics_token)) {
        s.fail_if("metrics_token", check_bearer_token(server.metrics_token));
    }
    if (s.read("trusted_proxies", server.trusted_proxies)) {
        for (std::size_t i = 0; i < server.trusted_proxies.size(); ++i) {
            s.fail_if("trusted_proxies[" + std::to_string(i) + "]",
                      check_network(server.trusted_proxies[i]));
        }
    }
}

void parse_tls(const Section& s, TlsConfig& tls, std::string_view source) {
    s.allow_only({"cert", "key", "ciphers", "hsts_max_age_seconds"});
    s.read_text("cert", tls.cert_file);
    s.read_text("key", tls.key_file);
    if (s.read("ciphers", tls.ciphers)) s.fail_if("ciphers", check_cipher_list(tls.ciphers));
    s.read("hsts_max_age_seconds", tls.hsts_max_age_seconds, 0, 2 * kYearSeconds);
    check_tls_pair(tls, source);
}

void parse_limits(const Section& s, LimitsConfig& limits) {
    s.allow_only({"max_frame_bytes",
                  "outbound_queue_bytes",
                  "outbound_queue_messages",
                  "handshake_timeout_ms",
                  "idle_timeout_ms",
                  "hello_timeout_ms",
                  "posts_per_second",
                  "post_burst",
                  "max_post_chars",
                  "max_rooms_per_session",
                  "presence_delay_ms",
                  "join_sync_timeout_ms",
                  "connections_per_address",
                  "upgrades_per_address",
                  "new_guests_per_address_per_hour",
                  "address_buffer_bytes",
                  "max_tracked_addresses",
                  "upload_timeout_ms",
                  "join_leave_per_second",
                  "join_leave_burst",
                  "history_events_per_minute",
                  "admin_batch_calls",
                  "max_runtime_rooms"});
    s.read("max_frame_bytes", limits.max_frame_bytes, 256, 16 * kMiB);
    s.read("outbound_queue_bytes", limits.outbound_queue_bytes, 4 * kKiB, kGiB);
    s.read("outbound_queue_messages", limits.outbound_queue_messages, 1, 1'000'000);
    s.read("handshake_timeout_ms", limits.handshake_timeout_ms, kMinTimeoutMs, kMaxTimeoutMs);
    s.read("idle_timeout_ms", limits.idle_timeout_ms, kMinTimeoutMs, kMaxTimeoutMs);
    s.read("hello_timeout_ms", limits.hello_timeout_ms, kMinTimeoutMs, kMaxTimeoutMs);
    s.read_rate("posts_per_second", limits.posts_per_second, kMaxPostsPerSecond);
    s.read("post_burst", limits.post_burst, 1, 10'000);
    s.read("max_post_chars", limits.max_post_chars, 1, 1'000'000);
    s.read("max_rooms_per_session", limits.max_rooms_per_session, 1, 1'000);
    s.read("presence_delay_ms", limits.presence_delay_ms, 0, 5'000);
    s.read("join_sync_timeout_ms", limits.join_sync_timeout_ms, 100, 60'000);
    s.read("connections_per_address", limits.connections_per_address, 1, 1'000'000);
    s.read("upgrades_per_address", limits.upgrades_per_address, 1, 1'000'000);
    s.read("new_guests_per_address_per_hour", limits.new_guests_per_address_per_hour, 1, 1'000'000);
    s.read("address_buffer_bytes", limits.address_buffer_bytes, 4 * kKiB, kGiB);
    s.read("max_tracked_addresses", limits.max_tracked_addresses, 100, 100'000'000);
    s.read("upload_timeout_ms", limits.upload_timeout_ms, kMinTimeoutMs, kMaxTimeoutMs);
    s.read_rate("join_leave_per_second", limits.join_leave_per_second, 1000.0);
    s.read("join_leave_burst", limits.join_leave_burst, 1, 100'000);
    s.read("history_events_per_minute", limits.history_events_per_minute, 1, 100'000'000);
    s.read("admin_batch_calls", limits.admin_batch_calls, 1, 1'000);
    s.read("max_runtime_rooms", limits.max_runtime_rooms, 1, 1'000'000);

    // A queue smaller than one full frame would disconnect a session on its first large
    // message, which looks like a random drop to the person on the other end.
    if (limits.outbound_queue_bytes < limits.max_frame_bytes) {
        s.fail("outbound_queue_bytes", "must be at least limits.max_frame_bytes (" +
                                           std::to_string(limits.max_frame_bytes) +
                                           ") so one full frame fits (got " +
                                           std::to_string(limits.outbound_queue_bytes) + ")");
    }
    // A post at the character limit can take 4 bytes per code point; if that did not fit in a
    // frame, a long but valid post would close the connection (1009) instead of being sent.
    const std::uint64_t post_bytes = std::uint64_t{limits.max_post_chars} * 4;
    if (post_bytes > limits.max_frame_bytes) {
        s.fail("max_post_chars", "up to " + std::to_string(post_bytes) +
                                     " bytes of UTF-8 must fit in limits.max_frame_bytes (" +
                                     std::to_string(limits.max_frame_bytes) +
                                     "); lower this or raise that");
    }
}

void parse_history(const Section& s, HistoryConfig& history) {
    s.allow_only({"max_events", "max_age_seconds", "join_events", "max_page", "dedupe_window"});
    s.read("max_events", history.max_events, 1, 1'000'000);
    s.read("max_age_seconds", history.max_age_seconds, 1, kYearSeconds);
    s.read("join_events", history.join_events, 0, 1'000'000);  // 0 = no backlog on join
    s.read("max_page", history.max_page, 1, 10'000);
    s.read("dedupe_window", history.dedupe_window, 1, 1'000'000);
    if (history.join_events > history.max_events) {
        s.fail("join_events", "must not exceed history.max_events (" +
                                  std::to_string(history.max_events) + ") (got " +
                                  std::to_string(history.join_events) + ")");
    }
}

void parse_auth(const Section& s, AuthConfig& auth) {
    s.allow_only({"guest_enabled", "jwt_hs256_secret", "jwt_issuer", "jwt_audience", "guest_secret",
                  "jwt_public_key_file", "reserved_handles", "token_expiry_notice_seconds"});
    s.read("token_expiry_notice_seconds", auth.token_expiry_notice_seconds, 0, 3600);
    if (s.read("reserved_handles", auth.reserved_handles)) {
        for (std::size_t i = 0; i < auth.reserved_handles.size(); ++i) {
            const std::string& word = auth.reserved_handles[i];
            if (word.empty() || word.size() > 64) {
                s.fail("reserved_handles[" + std::to_string(i) + "]",
                       "must be 1 to 64 bytes (got " + std::to_string(word.size()) + ")");
            }
        }
    }
    s.read_text("jwt_public_key_file", auth.jwt_public_key_file);
    s.read("guest_enabled", auth.guest_enabled);
    if (s.read("jwt_hs256_secret", auth.jwt_hs256_secret)) {
        s.fail_if("jwt_hs256_secret", check_secret(auth.jwt_hs256_secret));
    }
    s.read_text("jwt_issuer", auth.jwt_issuer);
    s.read_text("jwt_audience", auth.jwt_audience);
    if (s.read("guest_secret", auth.guest_secret)) {
        s.fail_if("guest_secret", check_secret(auth.guest_secret));
    }
}

void parse_broker(const Section& s, BrokerConfig& broker) {
    s.allow_only({"kind", "redis_url", "key_prefix", "presence_timeout_seconds"});
    s.read("presence_timeout_seconds", broker.presence_timeout_seconds, 3, 3600);
    if (s.read("kind", broker.kind) && broker.kind != "memory" && broker.kind != "redis") {
        s.fail("kind", "must be \"memory\" or \"redis\" (got " + printable(broker.kind) + ")");
    }
    // Checked even with the memory broker: a broken URL should not wait to surface until the
    // day someone switches to Redis.
    if (s.read("redis_url", broker.redis_url)) {
        s.fail_if("redis_url", check_redis_url(broker.redis_url));
    }
    if (s.read_text("key_prefix", broker.key_prefix)) {
        if (broker.key_prefix.empty() || broker.key_prefix.find(' ') != std::string::npos) {
            // Without a prefix Haven's keys would mix with whatever else shares the Redis.
            s.fail("key_prefix", "must be non-empty and without spaces (got " +
                                     printable(broker.key_prefix) + ")");
        }
    }
}

void parse_moderation(const Section& s, ModerationConfig& moderation) {
    s.allow_only({"flag_threshold", "redact_contact_details", "audit_file", "crisis_dir",
                  "role_memory_days", "max_known_roles", "flag_trust_minutes",
                  "hold_timeout_seconds"});
    s.read("flag_threshold", moderation.flag_threshold, 0, 1000);
    s.read("flag_trust_minutes", moderation.flag_trust_minutes, 0, 7 * 24 * 60);
    s.read("redact_contact_details", moderation.redact_contact_details);
    s.read_text("audit_file", moderation.audit_file);
    s.read_text("crisis_dir", moderation.crisis_dir);
    s.read("role_memory_days", moderation.role_memory_days, 1, 3650);
    s.read("max_known_roles", moderation.max_known_roles, 100, 10'000'000);
    s.read("hold_timeout_seconds", moderation.hold_timeout_seconds, 0, 7 * 24 * 3600);
}

void parse_safety(const Section& s, SafetyConfig& safety) {
    s.allow_only({"claim_timeout_seconds", "escalation_step_seconds", "webhook_url",
                  "webhook_secret", "webhook_timeout_ms", "webhook_attempts", "webhook_queue",
                  "tell_author", "followup_minutes", "followup_grace_seconds", "check_in_hours",
                  "max_check_in_threads"});
    s.read("check_in_hours", safety.check_in_hours, 1, 24 * 30);
    s.read("max_check_in_threads", safety.max_check_in_threads, 10, 1'000'000);
    s.read("tell_author", safety.tell_author);
    s.read("followup_minutes", safety.followup_minutes, 0, 24 * 60);
    s.read("followup_grace_seconds", safety.followup_grace_seconds, 1, 3600);
    s.read("claim_timeout_seconds", safety.claim_timeout_seconds, 1, 3600);
    s.read("escalation_step_seconds", safety.escalation_step_seconds, 1, 3600);
    if (s.read_text("webhook_url", safety.webhook_url) && !safety.webhook_url.empty() &&
        safety.webhook_url.rfind("http://", 0) != 0 &&
        safety.webhook_url.rfind("https://", 0) != 0) {
        // Not repeated in the message: a webhook address often carries a token.
        s.fail("webhook_url", "must start with http:// or https://");
    }
    s.read_text("webhook_secret", safety.webhook_secret);
    s.read("webhook_timeout_ms", safety.webhook_timeout_ms, 100, 60'000);
    s.read("webhook_attempts", safety.webhook_attempts, 1, 20);
    s.read("webhook_queue", safety.webhook_queue, 1, 100'000);
}

void parse_log(const Section& s, LogConfig& log) {
    s.allow_only({"level"});
    static constexpr std::array<std::string_view, 6> kLevels = {"trace", "debug", "info",
                                                                "warn",  "error", "off"};
    if (s.read("level", log.level) &&
        std::find(kLevels.begin(), kLevels.end(), log.level) == kLevels.end()) {
        s.fail("level", "must be one of: " + join(kLevels) + " (got " + printable(log.level) + ")");
    }
}

// A key naming one of a few choices: `out` becomes the one named (unchanged when absent).
template <typename Choice>
void read_choice(const Section& s, std::string_view key,
                 std::initializer_list<std::pair<std::string_view, Choice>> choices, Choice& out) {
    std::string named;
    if (!s.read(key, named)) return;
    std::vector<std::string> quoted;
    for (const auto& [name, choice] : choices) {
        if (name == named) {
            out = choice;
            return;
        }
        quoted.push_back("\"" + std::string(name) + "\"");
    }
    s.fail(key, "must be one of: " + join(quoted) + " (got " + printable(named) + ")");
}

MeetingScheduleConfig parse_schedule(const Section& s) {
    s.allow_only({"time_zone", "days", "start", "dates", "duration_minutes", "doors_open_minutes",
                  "late_entry_minutes"});
    MeetingScheduleConfig schedule;
    if (!s.read("time_zone", schedule.time_zone)) s.fail("time_zone", "is required");
    try {
        date::locate_zone(schedule.time_zone);
    } catch (const std::exception&) {
        s.fail("time_zone", "is not a time zone this machine knows (got " +
                                printable(schedule.time_zone) + "; e.g. \"Europe/Berlin\")");
    }
    s.read("days", schedule.days);
    static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (std::size_t i = 0; i < schedule.days.size(); ++i) {
        if (std::find(std::begin(kDays), std::end(kDays), schedule.days[i]) == std::end(kDays)) {
            s.fail("days[" + std::to_string(i) + "]",
                   "must be one of: mon, tue, wed, thu, fri, sat, sun (got " +
                       printable(schedule.days[i]) + ")");
        }
    }
    const bool has_start = s.read("start", schedule.start);
    if (has_start && !parse_clock_minutes(schedule.start)) {
        s.fail("start", "must be a local time \"HH:MM\" (got " + printable(schedule.start) + ")");
    }
    if (!schedule.days.empty() && !has_start) s.fail("start", "is required with days");
    if (schedule.days.empty() && has_start) s.fail("days", "is required with start");
    s.read("dates", schedule.dates);
    constexpr std::size_t kMaxDates = 366;
    if (schedule.dates.size() > kMaxDates) {
        s.fail("dates", "must list at most " + std::to_string(kMaxDates) + " dates (got " +
                            std::to_string(schedule.dates.size()) + ")");
    }
    for (std::size_t i = 0; i < schedule.dates.size(); ++i) {
        if (!parse_local_minutes(schedule.dates[i])) {
            s.fail("dates[" + std::to_string(i) + "]",
                   "must be a local date and time \"YYYY-MM-DD HH:MM\" (got " +
                       printable(schedule.dates[i]) + ")");
        }
    }
    if (schedule.days.empty() && schedule.dates.empty()) {
        s.fail("days", "or dates is required: when does the meeting meet?");
    }
    s.read("duration_minutes", schedule.duration_minutes, 5, 24 * 60);
    s.read("doors_open_minutes", schedule.doors_open_minutes, 0, 24 * 60);
    s.read("late_entry_minutes", schedule.late_entry_minutes, 0, schedule.duration_minutes);
    return schedule;
}

MeetingAgreementsConfig parse_agreements(const Section& s) {
    s.allow_only({"version", "text"});
    MeetingAgreementsConfig agreements;
    if (!s.read_text("version", agreements.version)) s.fail("version", "is required");
    if (agreements.version.empty() || agreements.version.size() > 32) {
        s.fail("version", "must be 1 to 32 characters (got " +
                              std::to_string(agreements.version.size()) + ")");
    }
    if (!s.read("text", agreements.text)) s.fail("text", "is required");
    if (agreements.text.find_first_not_of(" \n") == std::string::npos) {
        s.fail("text", "must not be empty");
    }
    if (agreements.text.size() > 8000) {
        s.fail("text",
               "must be at most 8000 bytes (got " + std::to_string(agreements.text.size()) + ")");
    }
    // Line breaks separate the agreements; other control characters are refused.
    std::string without_breaks = agreements.text;
    std::replace(without_breaks.begin(), without_breaks.end(), '\n', ' ');
    s.fail_if("text", check_text(without_breaks));
    return agreements;
}

MeetingFloorConfig parse_floor(const Section& s) {
    s.allow_only({"share_seconds", "cut_off", "round_order", "hand_grace_seconds",
                  "facilitator_grace_seconds"});
    MeetingFloorConfig floor;
    s.read("share_seconds", floor.share_seconds, 0, 3600);
    s.read("cut_off", floor.cut_off);
    read_choice(s, "round_order",
                {{"facilitators_first", RoundOrder::facilitators_first},
                 {"arrival", RoundOrder::arrival},
                 {"random", RoundOrder::random}},
                floor.round_order);
    s.read("hand_grace_seconds", floor.hand_grace_seconds, 0, 3600);
    s.read("facilitator_grace_seconds", floor.facilitator_grace_seconds, 0, 3600);
    if (floor.cut_off && floor.share_seconds == 0) {
        s.fail("cut_off", "needs share_seconds: a share without a time limit has no end to cut");
    }
    return floor;
}

RoomConfig parse_room(const Section& s, const toml::table& table) {
    s.allow_only({"id", "title", "topic", "kind", "capacity", "crisis_policy", "held_unanswered",
                  "guests", "schedule", "agreements", "floor"});
    RoomConfig room;
    read_choice(s, "held_unanswered",
                {{"reject", HeldUnanswered::reject}, {"deliver", HeldUnanswered::deliver}},
                room.held_unanswered);
    read_choice(s, "crisis_policy",
                {{"deliver", CrisisPolicy::deliver}, {"hold", CrisisPolicy::hold}},
                room.crisis_policy);
    if (!s.read("id", room.id)) s.fail("id", "is required");
    s.fail_if("id", check_room_id(room.id));

    if (!s.read_text("title", room.title)) s.fail("title", "is required");
    if (room.title.find_first_not_of(' ') == std::string::npos) {
        s.fail("title", "must not be empty");
    }
    if (room.title.size() > kMaxTitleBytes) {
        s.fail("title", "must be at most " + std::to_string(kMaxTitleBytes) + " bytes (got " +
                            std::to_string(room.title.size()) + ")");
    }

    s.read_text("topic", room.topic);
    if (room.topic.size() > kMaxTopicBytes) {
        s.fail("topic", "must be at most " + std::to_string(kMaxTopicBytes) + " bytes (got " +
                            std::to_string(room.topic.size()) + ")");
    }

    std::string kind;
    if (s.read("kind", kind)) {
        const std::optional<RoomKind> parsed = room_kind_from_string(kind);
        if (!parsed) {
            s.fail("kind", "must be one of: drop_in, group, meeting, one_to_one (got " +
                               printable(kind) + ")");
        }
        room.kind = *parsed;
    }
    s.read("capacity", room.capacity, 1, 100'000);
    s.read("guests", room.guests);
    if (const toml::node* node = table.get("schedule")) {
        if (room.kind != RoomKind::meeting) s.fail("schedule", "is for rooms of kind meeting");
        const toml::table* schedule = node->as_table();
        if (schedule == nullptr) s.fail("schedule", expected("a table", *node));
        room.schedule = parse_schedule(Section(*schedule, s.key_path("schedule"), s.source()));
    }
    if (const toml::node* node = table.get("agreements")) {
        if (room.kind != RoomKind::meeting) s.fail("agreements", "is for rooms of kind meeting");
        const toml::table* agreements = node->as_table();
        if (agreements == nullptr) s.fail("agreements", expected("a table", *node));
        room.agreements =
            parse_agreements(Section(*agreements, s.key_path("agreements"), s.source()));
    }
    if (const toml::node* node = table.get("floor")) {
        if (room.kind != RoomKind::meeting) s.fail("floor", "is for rooms of kind meeting");
        const toml::table* floor = node->as_table();
        if (floor == nullptr) s.fail("floor", expected("a table", *node));
        room.floor = parse_floor(Section(*floor, s.key_path("floor"), s.source()));
    }
    return room;
}

// [[rooms]] or [[room_templates]] (`key`): the same fields, ids unique within the list.
void parse_rooms(const toml::table& root, std::string_view source, std::string_view key,
                 std::vector<RoomConfig>& rooms) {
    const toml::node* node = root.get(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
        raise(source, key, expected("an array of [[" + std::string(key) + "]] tables", *node));
    }

    std::map<std::string, std::size_t, std::less<>> index_by_id;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
        const toml::node& element = (*array)[i];
        const toml::table* table = element.as_table();
        if (table == nullptr) raise(source, path, expected("a table", element));

        const Section section(*table, path, source);
        RoomConfig room = parse_room(section, *table);
        const auto [it, inserted] = index_by_id.emplace(room.id, i);
        if (!inserted) {
            section.fail("id", "duplicate room id " + printable(room.id) + " (already used by " +
                                   std::string(key) + "[" + std::to_string(it->second) + "])");
        }
        rooms.push_back(std::move(room));
    }
}

std::string read_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) raise_at(path, "is a directory, not a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int error = errno;
        raise_at(path, "cannot open file: " + std::generic_category().message(error));
    }
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) raise_at(path, "cannot read file");
    return text;
}

}  // namespace

std::string_view to_string(RoomKind kind) {
    switch (kind) {
        case RoomKind::drop_in:
            return "drop_in";
        case RoomKind::group:
            return "group";
        case RoomKind::meeting:
            return "meeting";
        case RoomKind::one_to_one:
            return "one_to_one";
    }
    return "unknown";
}

std::optional<RoomKind> room_kind_from_string(std::string_view name) {
    for (RoomKind kind :
         {RoomKind::drop_in, RoomKind::group, RoomKind::meeting, RoomKind::one_to_one}) {
        if (to_string(kind) == name) return kind;
    }
    return std::nullopt;
}

Config parse_config(std::string_view toml_text, std::string_view source) {
    // What toml++ 3.3 would answer with undefined behaviour instead of a parse error.
    if (const auto hazard = find_toml_hazard(toml_text)) {
        raise_at(source, "line " + std::to_string(hazard->line) + ", column " +
                             std::to_string(hazard->column) + ": " + hazard->what);
    }
    toml::table root;
    try {
        root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& error) {
        const toml::source_position& where = error.source().begin;
        raise_at(source, "line " + std::to_string(where.line) + ", column " +
                             std::to_string(where.column) + ": " +
                             std::string(error.description()));
    }

    const Section top(root, "", source);
    top.allow_only({"server", "tls", "limits", "history", "auth", "broker", "moderation", "safety",
                    "log", "rooms", "room_templates"});

    // An absent table reads as an empty one, so the cross-field checks still run on defaults.
    const toml::table empty;
    const auto section = [&](std::string_view name) {
        const toml::node* node = root.get(name);
        if (node == nullptr) return Section(empty, std::string(name), source);
        const toml::table* table = node->as_table();
        if (table == nullptr) {
            top.fail(name, expected("a table ([" + std::string(name) + "])", *node));
        }
        return Section(*table, std::string(name), source);
    };

    Config config;
    parse_server(section("server"), config.server);
    parse_tls(section("tls"), config.tls, source);
    parse_limits(section("limits"), config.limits);
    parse_history(section("history"), config.history);
    parse_auth(section("auth"), config.auth);
    parse_broker(section("broker"), config.broker);
    parse_moderation(section("moderation"), config.moderation);
    parse_safety(section("safety"), config.safety);
    parse_log(section("log"), config.log);
    parse_rooms(root, source, "rooms", config.rooms);
    parse_rooms(root, source, "room_templates", config.room_templates);
    return config;
}

void apply_environment(Config& config, const std::function<const char*(const char*)>& getenv_fn) {
    // Empty counts as unset: `HAVEN_JWT_SECRET= ./haven` should not wipe the file's value.
    const auto lookup = [&](const char* name) -> std::optional<std::string> {
        const char* value = getenv_fn ? getenv_fn(name) : nullptr;
        if (value == nullptr || *value == '\0') return std::nullopt;
        return std::string(value);
    };
    // The source names the variable and the key names the option, so either can be searched.
    const auto check = [](const char* name, std::string_view key, const Problem& problem) {
        if (problem) raise(std::string("env ") + name, key, *problem);
    };

    if (auto secret = lookup("HAVEN_JWT_SECRET")) {
        check("HAVEN_JWT_SECRET", "auth.jwt_hs256_secret", check_secret(*secret));
        config.auth.jwt_hs256_secret = std::move(*secret);
    }
    if (auto secret = lookup("HAVEN_GUEST_SECRET")) {
        check("HAVEN_GUEST_SECRET", "auth.guest_secret", check_secret(*secret));
        config.auth.guest_secret = std::move(*secret);
    }
    if (auto kind = lookup("HAVEN_BROKER")) {
        if (*kind != "memory" && *kind != "redis") {
            raise("env HAVEN_BROKER", "broker.kind",
                  "must be \"memory\" or \"redis\" (got " + printable(*kind) + ")");
        }
        config.broker.kind = std::move(*kind);
    }
    if (auto url = lookup("HAVEN_REDIS_URL")) {
        check("HAVEN_REDIS_URL", "broker.redis_url", check_redis_url(*url));
        config.broker.redis_url = std::move(*url);
    }
    if (auto cert = lookup("HAVEN_TLS_CERT")) {
        check("HAVEN_TLS_CERT", "tls.cert", check_text(*cert));
        config.tls.cert_file = std::move(*cert);
    }
    if (auto key = lookup("HAVEN_TLS_KEY")) {
        check("HAVEN_TLS_KEY", "tls.key", check_text(*key));
        config.tls.key_file = std::move(*key);
    }
    if (auto token = lookup("HAVEN_METRICS_TOKEN")) {
        check("HAVEN_METRICS_TOKEN", "server.metrics_token", check_bearer_token(*token));
        config.server.metrics_token = std::move(*token);
    }
    if (auto proxies = lookup("HAVEN_TRUSTED_PROXIES")) {
        std::vector<std::string> networks;
        std::size_t start = 0;
        while (start <= proxies->size()) {
            const std::size_t comma = std::min(proxies->find(',', start), proxies->size());
            std::string_view item = std::string_view(*proxies).substr(start, comma - start);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            std::string network(item);
            check("HAVEN_TRUSTED_PROXIES", "server.trusted_proxies", check_network(network));
            networks.push_back(std::move(network));
            start = comma + 1;
        }
        config.server.trusted_proxies = std::move(networks);
    }
    if (auto port = lookup("HAVEN_PORT")) {
        check("HAVEN_PORT", "server.port", check_port(*port));
        config.server.port = static_cast<std::uint16_t>(std::stoi(*port));
    }
    // Overriding only one half of the pair must not leave a half-configured TLS.
    check_tls_pair(config.tls, "environment");
}

// Relative paths in a file are relative to that file, so the server reads the same files
// wherever it is started from (a service's working folder is not the config's).
void resolve_paths(Config& config, const std::filesystem::path& folder) {
    const auto resolve = [&folder](std::string& path) {
        if (path.empty() || std::filesystem::path(path).is_absolute()) return;
        path = (folder / path).lexically_normal().string();
    };
    resolve(config.server.static_dir);
    resolve(config.tls.cert_file);
    resolve(config.tls.key_file);
    resolve(config.auth.jwt_public_key_file);
    resolve(config.moderation.audit_file);
    resolve(config.moderation.crisis_dir);
}

Config load_config_file(const std::string& path) {
    Config config = parse_config(read_file(path), path);
    resolve_paths(config, std::filesystem::path(path).parent_path());
    apply_environment(config, [](const char* name) -> const char* { return std::getenv(name); });
    return config;
}

std::optional<int> parse_clock_minutes(std::string_view text) {
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    for (const std::size_t i : {0, 1, 3, 4}) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    const int hours = (text[0] - '0') * 10 + (text[1] - '0');
    const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
    if (hours >= 24 || minutes >= 60) return std::nullopt;
    return hours * 60 + minutes;
}

std::optional<std::int64_t> parse_local_minutes(std::string_view text) {
    if (text.size() != 16 || text[4] != '-' || text[7] != '-' || text[10] != ' ') {
        return std::nullopt;
    }
    for (const std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    const auto number = [&](std::size_t from, std::size_t count) {
        int value = 0;
        for (std::size_t i = from; i < from + count; ++i) value = value * 10 + (text[i] - '0');
        return value;
    };
    const date::year_month_day day{date::year{number(0, 4)},
                                   date::month{static_cast<unsigned>(number(5, 2))},
                                   date::day{static_cast<unsigned>(number(8, 2))}};
    const std::optional<int> clock = parse_clock_minutes(text.substr(11));
    if (!day.ok() || !clock) return std::nullopt;
    const date::local_days midnight{day};
    return std::chrono::duration_cast<std::chrono::minutes>(midnight.time_since_epoch()).count() +
           *clock;
}

}  // namespace haven::config
