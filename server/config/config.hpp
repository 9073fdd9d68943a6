// The one configuration aggregate: every option with its default in place. Loaded from TOML
// at start-up and validated there, so nonsense refuses to start instead of failing later.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace haven::config {

enum class RoomKind { drop_in, group, meeting, one_to_one };

// What happens to a post in which crisis language was found (the author always gets the
// crisis resources privately and the moderators an urgent item).
enum class CrisisPolicy { deliver, hold };
// What happens to a held post nobody has answered in moderation.hold_timeout_seconds.
enum class HeldUnanswered { reject, deliver };

// When a meeting room meets ([rooms.schedule]): weekly on `days` at the local `start` in
// `time_zone` (so it keeps its local time across daylight saving), and on each one-off
// `dates` entry ("YYYY-MM-DD HH:MM", local). Checked at load; meetings/meeting_schedule.hpp
// turns it into occurrences.
struct MeetingScheduleConfig {
    std::string time_zone;          // IANA name, e.g. "Europe/Berlin"
    std::vector<std::string> days;  // "mon" .. "sun"
    std::string start;              // "HH:MM", local, for the weekly days
    std::vector<std::string> dates;
    std::uint32_t duration_minutes = 90;
    std::uint32_t doors_open_minutes = 10;  // before the start: the room opens to arrivals
    std::uint32_t late_entry_minutes = 15;  // after the start: newcomers are let in until then
};

// What people agree to before they join a meeting ([rooms.agreements]). A new version asks
// everyone again.
struct MeetingAgreementsConfig {
    std::string version;  // 1..32 printable characters, e.g. "2026-11"
    std::string text;     // up to 8000 bytes; line breaks allowed
};

// How a meeting room's floor is shared ([rooms.floor]).
enum class RoundOrder { facilitators_first, arrival, random };
struct MeetingFloorConfig {
    std::uint32_t share_seconds = 300;  // a share's time limit (0: none); warnings before it
    bool cut_off = false;               // the floor returns by itself when a share's time is up
    RoundOrder round_order = RoundOrder::facilitators_first;
    // Someone whose hand is up and who leaves keeps its place this long (a reconnect).
    std::uint32_t hand_grace_seconds = 120;
    // The last facilitator left: the meeting pauses this long for one (or a moderator) to come
    // back, then the occurrence ends.
    std::uint32_t facilitator_grace_seconds = 300;
};

struct RoomConfig {
    std::string id;     // stable identifier used on the wire, [a-z0-9-_]{1,64}
    std::string title;  // shown to people
    std::string topic;  // one line describing what the room is for
    RoomKind kind = RoomKind::drop_in;
    std::uint32_t capacity = 200;  // members at once; joins beyond it get ROOM_FULL
    CrisisPolicy crisis_policy = CrisisPolicy::deliver;
    HeldUnanswered held_unanswered = HeldUnanswered::reject;
    bool guests = true;                                  // false: only signed-in people may join
    std::optional<MeetingScheduleConfig> schedule = {};  // meeting rooms only
    std::optional<MeetingAgreementsConfig> agreements = {};  // meeting rooms only
    MeetingFloorConfig floor = {};                           // meeting rooms only
};

struct ServerConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;
    unsigned shards = 0;  // io_context threads; 0 = one per core
    std::string static_dir = "client-web/dist";
    // Serve files reached through symbolic links that point outside static_dir.
    bool static_follow_symlinks = false;
    // Larger files under static_dir are never read; they answer 404.
    std::uint32_t static_max_file_bytes = 16 * 1024 * 1024;
    std::vector<std::string> allowed_origins;  // empty = any Origin (development)
    // SIGTERM: clients are told to reconnect elsewhere (after a random delay of up to half
    // of this), and connections still open after it are closed before the process exits.
    std::uint32_t drain_grace_ms = 5000;
    // When set, GET /metrics needs "Authorization: Bearer <this>" (401 otherwise); empty =
    // open to anyone who can reach the port. Env HAVEN_METRICS_TOKEN overrides.
    std::string metrics_token;
    // Reverse proxies (IP addresses or CIDR networks, e.g. "10.0.0.0/8") whose
    // X-Forwarded-For header names the client: per-address limits and address bans then apply
    // to the address it names rather than to the proxy's. Empty = the peer is the client.
    // Env HAVEN_TRUSTED_PROXIES (comma-separated) overrides.
    std::vector<std::string> trusted_proxies;
};

// TLS 1.2 suites offered: ECDHE key exchange with AEAD ciphers only (forward secrecy, no
// CBC). TLS 1.3 suites are OpenSSL's own, all AEAD; TLS below 1.2 is never offered.
inline constexpr const char* kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct TlsConfig {
    std::string cert_file;  // PEM; both empty = plain ws:// and http://
    std::string key_file;
    // OpenSSL cipher string for TLS 1.2; every suite it selects must be ECDHE with AEAD
    // (checked at start, app/startup_checks).
    std::string ciphers = kDefaultTls12Ciphers;
    // Strict-Transport-Security max-age sent with every response while TLS is on; 0 tells
    // browsers to forget an earlier policy.
    std::uint32_t hsts_max_age_seconds = 31'536'000;  // one year
    bool enabled() const { return !cert_file.empty(); }
};

struct LimitsConfig {
    std::uint32_t max_frame_bytes = 64 * 1024;         // larger frames close with 1009
    std::uint32_t outbound_queue_bytes = 1024 * 1024;  // per session; overflow closes 4008
    std::uint32_t outbound_queue_messages = 4096;      // per session; overflow closes 4008
    std::uint32_t handshake_timeout_ms = 10'000;       // TCP accept to WebSocket upgrade
    std::uint32_t idle_timeout_ms = 60'000;            // silent this long: pinged, then dropped
    std::uint32_t hello_timeout_ms = 10'000;           // upgrade to Hello
    double posts_per_second = 5.0;                     // per session, token bucket refill
    std::uint32_t post_burst = 10;                     // per session, token bucket size
    std::uint32_t max_post_chars = 4000;               // UTF-8 code points in one post
    std::uint32_t max_rooms_per_session = 32;
    // Joins and leaves reach a room's members up to this late, several in one write (0: at once)
    std::uint32_t presence_delay_ms = 200;
    // A join waits at most this long for the live stream to reach its snapshot, then fails
    // with UNAVAILABLE (the broker's subscription is down)
    std::uint32_t join_sync_timeout_ms = 5'000;

    // ---- abuse limits (each refusal counted in haven_refused_total{reason}) -------------
    // Per client address (IPv6: per /64, what one subscriber usually gets). Addresses are
    // kept only as keyed hashes, in memory, and never logged.
    std::uint32_t connections_per_address = 64;          // open at once; more are closed at accept
    std::uint32_t upgrades_per_address = 16;             // accepted, not yet WebSocket (slowloris)
    std::uint32_t new_guests_per_address_per_hour = 20;  // Hellos minting a new guest
    // Bytes of unfinished frames buffered for all connections of one address; the connection
    // whose frame would pass it is closed with 1009.
    std::uint32_t address_buffer_bytes = 1024 * 1024;
    // Addresses tracked at once; beyond it new addresses are refused until some leave, so an
    // attacker with many addresses cannot grow the table without bound.
    std::uint32_t max_tracked_addresses = 100'000;
    // A frame that has begun arriving must be whole within this, or the connection is
    // closed with 1008 (a large frame trickled in to hold memory).
    std::uint32_t upload_timeout_ms = 10'000;
    // Per session: joins and leaves (each member of a room sees every one of them).
    double join_leave_per_second = 1.0;
    std::uint32_t join_leave_burst = 40;
    // Per session: events read through History (a page costs its size).
    std::uint32_t history_events_per_minute = 2000;
    // Calls in one admin API batch (POST /admin/api/batch).
    std::uint32_t admin_batch_calls = 50;
    // Rooms opened at run time (the admin API) and open at once, in the whole deployment as
    // this instance knows it.
    std::uint32_t max_runtime_rooms = 1000;
};

struct HistoryConfig {
    std::uint32_t max_events = 1000;        // per room, oldest dropped first
    std::uint32_t max_age_seconds = 86400;  // per room, older events dropped
    std::uint32_t join_events = 50;         // recent events sent in Joined
    std::uint32_t max_page = 200;           // largest History page
    std::uint32_t dedupe_window = 4096;     // client message ids remembered per room
};

struct AuthConfig {
    bool guest_enabled = false;
    std::string jwt_hs256_secret;  // env HAVEN_JWT_SECRET overrides
    std::string jwt_issuer;        // when set, the iss claim must match
    std::string jwt_audience;      // when set, the aud claim must name it
    // PEM public key (Ed25519 or RSA >= 2048 bits) for EdDSA / RS256 tokens, so the identity
    // system keeps its private key. Empty = asymmetric tokens off.
    std::string jwt_public_key_file;
    // Signs guest passes (reconnecting guests keep their identity). Must be the same on every
    // instance behind one load balancer; empty = random per process. Env HAVEN_GUEST_SECRET.
    std::string guest_secret;
    // Signed-in sessions are sent TokenExpiring this long before their token runs out; then
    // they are closed with 4001 unless a Refresh brought a new token.
    std::uint32_t token_expiry_notice_seconds = 60;
    // No handle may be or contain these words, compared by how they look (see
    // auth/handle_policy.hpp); staff signed in with a token are exempt.
    std::vector<std::string> reserved_handles = {
        "moderator", "mod",         "admin",          "administrator", "operator",    "haven",
        "staff",     "system",      "official",       "crisis line",   "crisis team", "helpline",
        "hotline",   "facilitator", "peer supporter", "counsellor",    "counselor",   "therapist"};
};

struct BrokerConfig {
    std::string kind = "memory";                       // "memory" (embedded) | "redis"
    std::string redis_url = "redis://127.0.0.1:6379";  // env HAVEN_REDIS_URL overrides
    std::string key_prefix = "haven:";
    // An instance silent this long is presumed dead and its members are removed (with
    // member_left events) by the others. Heartbeats go out every third of it.
    std::uint32_t presence_timeout_seconds = 15;
};

struct ModerationConfig {
    // Trusted flaggers (below) whose flags hide a post pending review; 0 = never. Every flag
    // still reaches the moderators.
    std::uint32_t flag_threshold = 3;
    // A flag counts towards hiding only when its author is signed in or has been in the room
    // this long: throwaway guests cannot hide posts by themselves.
    std::uint32_t flag_trust_minutes = 10;
    bool redact_contact_details = false;  // remove emails and phone numbers from posts
    std::string audit_file;  // memory broker's audit log (JSON lines); empty = memory only
    std::string crisis_dir;  // phrase lists and resources; empty = detection off
    // How long a signed-in person's role is remembered after they were last seen, so actions
    // naming them by subject while they are offline still respect it
    std::uint32_t role_memory_days = 90;
    std::uint32_t max_known_roles = 100'000;  // people remembered by the embedded broker
    // A held post nobody has released or rejected in this time is delivered or rejected by
    // its room's held_unanswered, and its author told which (0: held posts wait forever).
    std::uint32_t hold_timeout_seconds = 1800;
};

// Crisis alerts that always reach a human: how long an urgent item may wait unclaimed before
// each step of the escalation ladder (global moderators, then operators, then the webhook).
struct SafetyConfig {
    std::uint32_t claim_timeout_seconds = 60;    // unclaimed this long: step 1
    std::uint32_t escalation_step_seconds = 60;  // each further step after the one before
    // Step 3: an HTTP(S) POST of the alert, without any message text, to the operators'
    // on-call system (empty: no webhook, the ladder stops at step 2).
    std::string webhook_url;
    std::string webhook_secret;  // signs the body (X-Haven-Signature: sha256=HMAC); may be empty
    std::uint32_t webhook_timeout_ms = 5000;
    std::uint32_t webhook_attempts = 5;  // tries, with doubling backoff from 1 s
    std::uint32_t webhook_queue = 100;   // alerts waiting to be sent; more are counted as failed
    // The crisis panel also says what happens on the human side: a moderator on duty was let
    // know, or none is on duty and the resources are the way to help now.
    bool tell_author = true;
    // Someone whose post raised a crisis alert in the last followup_minutes leaves its room
    // (or loses their connection) and is not back within followup_grace_seconds: the alert's
    // owner, or the moderators on duty, are told (0 minutes: never).
    std::uint32_t followup_minutes = 30;
    std::uint32_t followup_grace_seconds = 60;
    // Reach out (CheckIn): a conversation the person can still answer ends after this many
    // hours without a message; at most this many are remembered (the oldest go first).
    std::uint32_t check_in_hours = 24;
    std::uint32_t max_check_in_threads = 10'000;
};

struct LogConfig {
    std::string level = "info";  // trace|debug|info|warn|error|off
};

struct Config {
    ServerConfig server;
    TlsConfig tls;
    LimitsConfig limits;
    HistoryConfig history;
    AuthConfig auth;
    BrokerConfig broker;
    ModerationConfig moderation;
    SafetyConfig safety;
    LogConfig log;
    std::vector<RoomConfig> rooms;
    // What rooms opened at run time (the admin API) are made from: `id` names the template,
    // and `title` and `topic` are the defaults a new room takes.
    std::vector<RoomConfig> room_templates;
};

// Raised for any invalid option; what() is one line naming the key, e.g.
// "config: limits.max_frame_bytes: must be between 256 and 16777216 (got 12)".
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses TOML text. `source` names the text in error messages (usually the file path).
// Environment overrides are not applied here, so tests stay hermetic.
Config parse_config(std::string_view toml_text, std::string_view source);

// Reads and parses a file, resolves the paths it names relative to its own folder (static_dir,
// tls.cert and tls.key, auth.jwt_public_key_file, moderation.audit_file and crisis_dir), then
// applies environment overrides, whose paths stay relative to the working folder (HAVEN_JWT_SECRET,
// HAVEN_GUEST_SECRET, HAVEN_BROKER, HAVEN_REDIS_URL, HAVEN_TLS_CERT, HAVEN_TLS_KEY, HAVEN_PORT,
// HAVEN_METRICS_TOKEN, HAVEN_TRUSTED_PROXIES).
Config load_config_file(const std::string& path);

// Applies the environment overrides listed above, validated like the file values. getenv_fn
// returns nullptr for an unset variable; an empty value counts as unset. Taking the lookup as a
// parameter lets tests use a fake environment instead of mutating the process's.
void apply_environment(Config& config, const std::function<const char*(const char*)>& getenv_fn);

std::string_view to_string(RoomKind kind);
// Inverse of to_string: "drop_in", "group", "meeting" or "one_to_one"; nullopt otherwise.
std::optional<RoomKind> room_kind_from_string(std::string_view name);

}  // namespace haven::config
