// Tests for config loading: defaults, the shipped development config, every class of
// validation error (each must name its dotted key on one line), and environment overrides.
// Over 400 lines: one case per class of configuration error, each naming its key.
#include "config/config.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>

#include "unit/config_error_of.hpp"

namespace {

using haven::config::apply_environment;
using haven::config::Config;
using haven::config::ConfigError;
using haven::config::parse_config;
using haven::config::RoomKind;
using haven::test::config_error_of;

// Checks the documented shape: "config <source>: <key>: <what>", on one line.
void check_error(std::string_view text, std::string_view key, std::string_view fragment = "") {
    const std::string message = config_error_of(text);
    INFO("toml: " << text);
    INFO("message: " << message);
    REQUIRE_FALSE(message.empty());
    const std::string prefix = "config test.toml: " + std::string(key) + ": ";
    CHECK(message.rfind(prefix, 0) == 0);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find(fragment) != std::string::npos);
}

// A fake environment, so the tests never read or change the real one.
struct FakeEnv {
    std::map<std::string, std::string> vars;
    const char* operator()(const char* name) const {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    }
};

std::string env_error_of(Config& config, const FakeEnv& env) {
    try {
        apply_environment(config, env);
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "";
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string kSecret = "0123456789abcdef0123456789abcdef";  // exactly 32 bytes

}  // namespace

TEST_CASE("config: empty text gives every default") {
    const Config config = parse_config("", "empty.toml");
    const Config defaults;

    CHECK(config.server.address == "127.0.0.1");
    CHECK(config.server.port == 8080);
    CHECK(config.server.shards == 0);
    CHECK(config.server.static_dir == "client-web/dist");
    CHECK(config.server.allowed_origins.empty());
    CHECK_FALSE(config.tls.enabled());
    CHECK(config.tls.key_file.empty());
    CHECK(config.limits.max_frame_bytes == defaults.limits.max_frame_bytes);
    CHECK(config.limits.outbound_queue_bytes == defaults.limits.outbound_queue_bytes);
    CHECK(config.limits.outbound_queue_messages == defaults.limits.outbound_queue_messages);
    CHECK(config.limits.handshake_timeout_ms == defaults.limits.handshake_timeout_ms);
    CHECK(config.limits.idle_timeout_ms == defaults.limits.idle_timeout_ms);
    CHECK(config.limits.hello_timeout_ms == defaults.limits.hello_timeout_ms);
    CHECK(config.limits.posts_per_second == defaults.limits.posts_per_second);
    CHECK(config.limits.post_burst == defaults.limits.post_burst);
    CHECK(config.limits.max_post_chars == defaults.limits.max_post_chars);
    CHECK(config.limits.max_rooms_per_session == defaults.limits.max_rooms_per_session);
    CHECK(config.limits.presence_delay_ms == 200);
    CHECK(config.history.max_events == defaults.history.max_events);
    CHECK(config.history.max_age_seconds == defaults.history.max_age_seconds);
    CHECK(config.history.join_events == defaults.history.join_events);
    CHECK(config.history.max_page == defaults.history.max_page);
    CHECK(config.history.dedupe_window == defaults.history.dedupe_window);
    CHECK_FALSE(config.auth.guest_enabled);
    CHECK(config.auth.jwt_hs256_secret.empty());
    CHECK(config.auth.jwt_issuer.empty());
    CHECK(config.broker.kind == "memory");
    CHECK(config.broker.redis_url == "redis://127.0.0.1:6379");
    CHECK(config.broker.key_prefix == "haven:");
    CHECK(config.log.level == "info");
    CHECK(config.rooms.empty());
}

TEST_CASE("config: comments and empty tables also give defaults") {
    // rooms = [] comes first: after a [table] header it would belong to that table.
    const Config config = parse_config(
        "# nothing set\nrooms = []\n[server]\n[tls]\n[limits]\n[history]\n[auth]\n[broker]\n"
        "[log]\n",
        "t");
    CHECK(config.server.port == 8080);
    CHECK(config.rooms.empty());
}

TEST_CASE("config: a full valid config sets every field") {
    const std::string text = R"(
[server]
address = "0.0.0.0"
port = 9443
shards = 4
static_dir = "/srv/haven/www"
allowed_origins = ["https://support.example.org", "http://localhost:5173"]

[tls]
cert = "/etc/haven/cert.pem"
key = "/etc/haven/key.pem"

[limits]
max_frame_bytes = 32768
outbound_queue_bytes = 524288
outbound_queue_messages = 1000
handshake_timeout_ms = 5000
idle_timeout_ms = 30000
hello_timeout_ms = 4000
posts_per_second = 2.5
post_burst = 6
max_post_chars = 2000
max_rooms_per_session = 8
presence_delay_ms = 0

[history]
max_events = 500
max_age_seconds = 3600
join_events = 20
max_page = 100
dedupe_window = 1024

[auth]
guest_enabled = true
jwt_hs256_secret = "0123456789abcdef0123456789abcdef"
jwt_issuer = "https://id.example.org"

[broker]
kind = "redis"
redis_url = "redis://cache.internal:6380/2"
key_prefix = "haven-test:"

[log]
level = "debug"

[[rooms]]
id = "lobby"
title = "Drop-in lounge"
topic = "Say hello"
kind = "drop_in"
capacity = 300

[[rooms]]
id = "one_to_one-7"
title = "Private chat"
kind = "one_to_one"
capacity = 2
)";
    const Config config = parse_config(text, "full.toml");

    CHECK(config.server.address == "0.0.0.0");
    CHECK(config.server.port == 9443);
    CHECK(config.server.shards == 4);
    CHECK(config.server.static_dir == "/srv/haven/www");
    REQUIRE(config.server.allowed_origins.size() == 2);
    CHECK(config.server.allowed_origins[0] == "https://support.example.org");
    CHECK(config.server.allowed_origins[1] == "http://localhost:5173");
    CHECK(config.tls.enabled());
    CHECK(config.tls.cert_file == "/etc/haven/cert.pem");
    CHECK(config.tls.key_file == "/etc/haven/key.pem");
    CHECK(config.limits.max_frame_bytes == 32768);
    CHECK(config.limits.outbound_queue_bytes == 524288);
    CHECK(config.limits.outbound_queue_messages == 1000);
    CHECK(config.limits.handshake_timeout_ms == 5000);
    CHECK(config.limits.idle_timeout_ms == 30000);
    CHECK(config.limits.hello_timeout_ms == 4000);
    CHECK(config.limits.posts_per_second == doctest::Approx(2.5));
    CHECK(config.limits.post_burst == 6);
    CHECK(config.limits.max_post_chars == 2000);
    CHECK(config.limits.max_rooms_per_session == 8);
    CHECK(config.limits.presence_delay_ms == 0);
    CHECK(config.history.max_events == 500);
    CHECK(config.history.max_age_seconds == 3600);
    CHECK(config.history.join_events == 20);
    CHECK(config.history.max_page == 100);
    CHECK(config.history.dedupe_window == 1024);
    CHECK(config.auth.guest_enabled);
    CHECK(config.auth.jwt_hs256_secret == kSecret);
    CHECK(config.auth.jwt_issuer == "https://id.example.org");
    CHECK(config.broker.kind == "redis");
    CHECK(config.broker.redis_url == "redis://cache.internal:6380/2");
    CHECK(config.broker.key_prefix == "haven-test:");
    CHECK(config.log.level == "debug");

    REQUIRE(config.rooms.size() == 2);
    CHECK(config.rooms[0].id == "lobby");
    CHECK(config.rooms[0].title == "Drop-in lounge");
    CHECK(config.rooms[0].topic == "Say hello");
    CHECK(config.rooms[0].kind == RoomKind::drop_in);
    CHECK(config.rooms[0].capacity == 300);
    CHECK(config.rooms[1].id == "one_to_one-7");
    CHECK(config.rooms[1].topic.empty());
    CHECK(config.rooms[1].kind == RoomKind::one_to_one);
    CHECK(config.rooms[1].capacity == 2);
}

TEST_CASE("config: room fields other than id and title default") {
    const Config config = parse_config("[[rooms]]\nid = \"a\"\ntitle = \"A\"\n", "t");
    REQUIRE(config.rooms.size() == 1);
    CHECK(config.rooms[0].kind == RoomKind::drop_in);
    CHECK(config.rooms[0].capacity == 200);
    CHECK(config.rooms[0].topic.empty());
}

TEST_CASE("config: posts_per_second accepts an integer") {
    CHECK(parse_config("[limits]\nposts_per_second = 3\n", "t").limits.posts_per_second ==
          doctest::Approx(3.0));
}

TEST_CASE("config: boundary values are accepted") {
    const Config config = parse_config(R"(
[server]
port = 65535
shards = 256
[limits]
max_frame_bytes = 16777216
outbound_queue_bytes = 16777216
handshake_timeout_ms = 100
idle_timeout_ms = 3600000
posts_per_second = 1000
[history]
max_events = 1
join_events = 0
)",
                                       "t");
    CHECK(config.server.port == 65535);
    CHECK(config.server.shards == 256);
    CHECK(config.limits.max_frame_bytes == 16u * 1024 * 1024);
    CHECK(config.limits.handshake_timeout_ms == 100);
    CHECK(config.limits.idle_timeout_ms == 3'600'000);
    CHECK(config.history.max_events == 1);
    CHECK(config.history.join_events == 0);

    CHECK(parse_config("[server]\nport = 1\n", "t").server.port == 1);
    CHECK(parse_config("[limits]\nmax_frame_bytes = 256\nmax_post_chars = 64\n", "t")
              .limits.max_frame_bytes == 256);
}

TEST_CASE("config: the shipped config/haven.toml parses as the development setup") {
    const std::string source = HAVEN_SOURCE_DIR;
    const std::string path = source + "/config/haven.toml";
    const Config config = parse_config(read_text_file(path), path);

    CHECK(config.auth.guest_enabled);
    CHECK(config.server.address == "127.0.0.1");
    CHECK(config.server.port == 8080);
    CHECK(config.server.static_dir == "../client-web/dist");
    // Loaded as a file, its paths are relative to its folder, not to the working folder.
    const Config loaded = haven::config::load_config_file(path);
    CHECK(loaded.server.static_dir == source + "/client-web/dist");
    CHECK(loaded.moderation.crisis_dir == source + "/config/crisis");
    CHECK(loaded.moderation.audit_file == source + "/data/audit.jsonl");
    CHECK(config.broker.kind == "memory");
    CHECK_FALSE(config.tls.enabled());
    CHECK(config.rooms.size() >= 3);

    bool has_lobby = false;
    bool has_group = false;
    bool has_meeting = false;
    for (const auto& room : config.rooms) {
        CHECK_FALSE(room.title.empty());
        CHECK_FALSE(room.topic.empty());
        if (room.id == "lobby") {
            has_lobby = true;
            CHECK(room.kind == RoomKind::drop_in);
            CHECK(room.title == "Drop-in lounge");
        }
        has_group = has_group || room.kind == RoomKind::group;
        has_meeting = has_meeting || room.kind == RoomKind::meeting;
    }
    CHECK(has_lobby);
    CHECK(has_group);
    CHECK(has_meeting);
}

TEST_CASE("config: error messages have the documented one-line shape") {
    const std::string message = config_error_of("[limits]\nmax_frame_bytes = 12\n");
    CHECK(message ==
          "config test.toml: limits.max_frame_bytes: must be between 256 and 16777216 (got 12)");

    // Without a source name the message still reads naturally.
    try {
        parse_config("[server]\nport = 0\n", "");
        FAIL("expected ConfigError");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()).rfind("config: server.port: ", 0) == 0);
    }
}

TEST_CASE("config: unknown keys and tables are rejected") {
    check_error("[servr]\nport = 1\n", "servr", "unknown table");
    check_error("[[room]]\nid = \"a\"\n", "room", "unknown");
    check_error("prot = 1\n", "prot", "unknown key");
    check_error("[server]\nprot = 8080\n", "server.prot", "unknown key");
    check_error("[server]\nprot = 8080\n", "server.prot", "port");  // lists the valid keys
    check_error("[tls]\ncert_file = \"a\"\n", "tls.cert_file", "unknown key");
    check_error("[limits]\nmax_frame = 1000\n", "limits.max_frame", "unknown key");
    check_error("[history]\nmax_event = 1\n", "history.max_event", "unknown key");
    check_error("[auth]\nguests = true\n", "auth.guests", "unknown key");
    check_error("[broker]\nurl = \"redis://x\"\n", "broker.url", "unknown key");
    check_error("[log]\nlvl = \"info\"\n", "log.lvl", "unknown key");
    check_error("[server.extra]\na = 1\n", "server.extra", "unknown table");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\ncolour = \"blue\"\n", "rooms[0].colour",
                "unknown key");
}

TEST_CASE("config: wrong types are rejected") {
    check_error("[server]\nport = \"8080\"\n", "server.port", "must be an integer (got string)");
    check_error("[server]\nport = 8080.0\n", "server.port", "got float");
    check_error("[server]\naddress = 127\n", "server.address", "must be a string");
    check_error("[auth]\nguest_enabled = \"yes\"\n", "auth.guest_enabled", "true or false");
    check_error("[auth]\nguest_enabled = 1\n", "auth.guest_enabled", "got integer");
    check_error("[limits]\nposts_per_second = \"fast\"\n", "limits.posts_per_second",
                "must be a number");
    check_error("[log]\nlevel = 3\n", "log.level", "must be a string");
    check_error("server = 1\n", "server", "must be a table");
    check_error("[[server]]\nport = 1\n", "server", "(got array)");
    check_error("[rooms]\nid = \"a\"\n", "rooms", "array");
    check_error("rooms = [1]\n", "rooms[0]", "must be a table");
    check_error("[[rooms]]\nid = 5\ntitle = \"A\"\n", "rooms[0].id", "must be a string");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\ncapacity = \"10\"\n", "rooms[0].capacity",
                "must be an integer");
    check_error("[history]\nmax_age_seconds = 1979-05-27\n", "history.max_age_seconds", "got date");
}

TEST_CASE("config: allowed_origins must be an array of well-formed origins") {
    check_error("[server]\nallowed_origins = \"https://a.org\"\n", "server.allowed_origins",
                "must be an array of strings (got string)");
    check_error("[server]\nallowed_origins = [\"https://a.org\", 3]\n", "server.allowed_origins[1]",
                "must be a string (got integer)");
    check_error("[server]\nallowed_origins = [\"a.org\"]\n", "server.allowed_origins[0]",
                "http:// or https://");
    check_error("[server]\nallowed_origins = [\"https://a.org/\"]\n", "server.allowed_origins[0]",
                "trailing slash");
    check_error("[server]\nallowed_origins = [\"https://A.org\"]\n", "server.allowed_origins[0]",
                "lower case");
    check_error("[server]\nallowed_origins = [\"https://\"]\n", "server.allowed_origins[0]",
                "host");
}

TEST_CASE("config: negative numbers are rejected") {
    check_error("[server]\nport = -1\n", "server.port", "(got -1)");
    check_error("[server]\nshards = -4\n", "server.shards", "(got -4)");
    check_error("[limits]\npost_burst = -10\n", "limits.post_burst", "(got -10)");
    check_error("[limits]\nposts_per_second = -1.5\n", "limits.posts_per_second", "(got -1.5)");
    check_error("[history]\njoin_events = -1\n", "history.join_events", "(got -1)");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\ncapacity = -5\n", "rooms[0].capacity",
                "(got -5)");
}

TEST_CASE("config: out-of-range numbers are rejected") {
    check_error("[server]\nport = 0\n", "server.port", "between 1 and 65535 (got 0)");
    check_error("[server]\nport = 65536\n", "server.port", "(got 65536)");
    check_error("[server]\nshards = 257\n", "server.shards", "between 0 and 256");
    check_error("[limits]\nmax_frame_bytes = 255\n", "limits.max_frame_bytes", "(got 255)");
    check_error("[limits]\nmax_frame_bytes = 16777217\n", "limits.max_frame_bytes",
                "(got 16777217)");
    check_error("[limits]\noutbound_queue_messages = 0\n", "limits.outbound_queue_messages",
                "(got 0)");
    check_error("[limits]\nhandshake_timeout_ms = 99\n", "limits.handshake_timeout_ms",
                "between 100 and 3600000");
    check_error("[limits]\nidle_timeout_ms = 3600001\n", "limits.idle_timeout_ms", "(got 3600001)");
    check_error("[limits]\nhello_timeout_ms = 0\n", "limits.hello_timeout_ms", "(got 0)");
    check_error("[limits]\nposts_per_second = 0\n", "limits.posts_per_second", "greater than 0");
    check_error("[limits]\nposts_per_second = 1000.5\n", "limits.posts_per_second", "at most 1000");
    check_error("[limits]\nposts_per_second = nan\n", "limits.posts_per_second", "nan)");
    check_error("[limits]\nposts_per_second = inf\n", "limits.posts_per_second", "(got inf)");
    check_error("[limits]\npost_burst = 0\n", "limits.post_burst", "(got 0)");
    check_error("[limits]\nmax_post_chars = 0\n", "limits.max_post_chars", "(got 0)");
    check_error("[limits]\nmax_rooms_per_session = 0\n", "limits.max_rooms_per_session", "(got 0)");
    check_error("[limits]\npresence_delay_ms = 5001\n", "limits.presence_delay_ms", "(got 5001)");
    check_error("[history]\nmax_events = 0\n", "history.max_events", "(got 0)");
    check_error("[history]\nmax_events = 1000001\n", "history.max_events", "(got 1000001)");
    check_error("[history]\nmax_age_seconds = 0\n", "history.max_age_seconds", "(got 0)");
    check_error("[history]\nmax_page = 0\n", "history.max_page", "(got 0)");
    check_error("[history]\ndedupe_window = 0\n", "history.dedupe_window", "(got 0)");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\ncapacity = 0\n", "rooms[0].capacity",
                "between 1 and 100000");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\ncapacity = 100001\n", "rooms[0].capacity",
                "(got 100001)");
    // Larger than 32 bits: must not wrap around into range.
    check_error("[limits]\nmax_frame_bytes = 4294967552\n", "limits.max_frame_bytes",
                "(got 4294967552)");
}

TEST_CASE("config: options that must agree with each other") {
    check_error("[history]\nmax_events = 10\n", "history.join_events",
                "must not exceed history.max_events (10) (got 50)");
    check_error("[history]\nmax_events = 100\njoin_events = 101\n", "history.join_events",
                "(got 101)");
    check_error("[limits]\nmax_frame_bytes = 2097152\n", "limits.outbound_queue_bytes",
                "limits.max_frame_bytes");
    check_error("[limits]\nmax_frame_bytes = 1024\n", "limits.max_post_chars",
                "limits.max_frame_bytes (1024)");
}

TEST_CASE("config: tls needs both cert and key") {
    check_error("[tls]\ncert = \"/c.pem\"\n", "tls.key", "both or neither");
    check_error("[tls]\nkey = \"/k.pem\"\n", "tls.cert", "both or neither");
    CHECK_FALSE(parse_config("[tls]\ncert = \"\"\nkey = \"\"\n", "t").tls.enabled());
}

TEST_CASE("config: auth, broker and log values are checked") {
    check_error("[auth]\njwt_hs256_secret = \"hunter2\"\n", "auth.jwt_hs256_secret",
                "at least 32 bytes");
    // A secret, even a rejected one, never appears in the message.
    CHECK(config_error_of("[auth]\njwt_hs256_secret = \"hunter2\"\n").find("hunter2") ==
          std::string::npos);
    check_error("[broker]\nkind = \"kafka\"\n", "broker.kind", "\"memory\" or \"redis\"");
    check_error("[broker]\nkind = \"Redis\"\n", "broker.kind", "(got \"Redis\")");
    check_error("[broker]\nredis_url = \"http://cache:6379\"\n", "broker.redis_url", "redis://");
    check_error("[broker]\nkey_prefix = \"\"\n", "broker.key_prefix", "non-empty");
    check_error("[log]\nlevel = \"verbose\"\n", "log.level", "trace, debug, info, warn, error");
    check_error("[log]\nlevel = \"INFO\"\n", "log.level", "(got \"INFO\")");
    check_error("[server]\naddress = \"\"\n", "server.address", "host name or IP address");
    check_error("[auth]\njwt_issuer = \"a\\nb\"\n", "auth.jwt_issuer", "control characters");
}

TEST_CASE("config: rooms are validated") {
    check_error("[[rooms]]\ntitle = \"A\"\n", "rooms[0].id", "is required");
    check_error("[[rooms]]\nid = \"a\"\n", "rooms[0].title", "is required");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"\"\n", "rooms[0].title", "must not be empty");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"   \"\n", "rooms[0].title", "must not be empty");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\ntopic = \"two\\nlines\"\n", "rooms[0].topic",
                "line breaks");
    check_error("[[rooms]]\nid = \"\"\ntitle = \"A\"\n", "rooms[0].id", "a-z, 0-9");
    check_error("[[rooms]]\nid = \"Lobby\"\ntitle = \"A\"\n", "rooms[0].id", "(got \"Lobby\")");
    check_error("[[rooms]]\nid = \"the lobby\"\ntitle = \"A\"\n", "rooms[0].id", "a-z");
    check_error("[[rooms]]\nid = \"caf\u00e9\"\ntitle = \"A\"\n", "rooms[0].id", "a-z");
    check_error("[[rooms]]\nid = \"" + std::string(65, 'a') + "\"\ntitle = \"A\"\n", "rooms[0].id",
                "1 to 64");
    CHECK(parse_config("[[rooms]]\nid = \"" + std::string(64, 'a') + "\"\ntitle = \"A\"\n", "t")
              .rooms.size() == 1);
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\nkind = \"support\"\n", "rooms[0].kind",
                "drop_in, group, meeting, one_to_one");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\nheld_unanswered = \"keep\"\n",
                "rooms[0].held_unanswered", "one of: \"reject\", \"deliver\" (got \"keep\")");
    check_error("[[rooms]]\nid = \"a\"\ntitle = \"A\"\ncrisis_policy = \"hide\"\n",
                "rooms[0].crisis_policy", "one of: \"deliver\", \"hold\" (got \"hide\")");
    const Config held = parse_config(
        "[[rooms]]\nid = \"a\"\ntitle = \"A\"\ncrisis_policy = \"hold\"\n"
        "held_unanswered = \"deliver\"\n[[rooms]]\nid = \"b\"\ntitle = \"B\"\n",
        "t");
    CHECK(held.rooms[0].crisis_policy == haven::config::CrisisPolicy::hold);
    CHECK(held.rooms[0].held_unanswered == haven::config::HeldUnanswered::deliver);
    CHECK(held.rooms[1].crisis_policy == haven::config::CrisisPolicy::deliver);
    CHECK(held.rooms[1].held_unanswered == haven::config::HeldUnanswered::reject);
    check_error(R"(
[[rooms]]
id = "lobby"
title = "Lobby"
[[rooms]]
id = "other"
title = "Other"
[[rooms]]
id = "lobby"
title = "Lobby again"
)",
                "rooms[2].id", "duplicate room id \"lobby\" (already used by rooms[0])");
}

TEST_CASE("config: TOML syntax errors name the line") {
    const std::string message =
        config_error_of("[server]\nport = 8080\naddress = \"unterminated\n");
    INFO(message);
    CHECK(message.rfind("config test.toml: line 3, column ", 0) == 0);
    CHECK(message.find('\n') == std::string::npos);

    const std::string duplicate = config_error_of("[server]\nport = 1\nport = 2\n");
    INFO(duplicate);
    CHECK(duplicate.find("line 3") != std::string::npos);
}

TEST_CASE("config: environment overrides replace file values") {
    Config config =
        parse_config("[server]\nport = 8080\n[broker]\nredis_url = \"redis://file:6379\"\n", "t");
    FakeEnv env;
    env.vars = {{"HAVEN_JWT_SECRET", kSecret},
                {"HAVEN_REDIS_URL", "redis://env.example:6380"},
                {"HAVEN_BROKER", "redis"},
                {"HAVEN_GUEST_SECRET", kSecret},
                {"HAVEN_TLS_CERT", "/run/secrets/cert.pem"},
                {"HAVEN_TLS_KEY", "/run/secrets/key.pem"},
                {"HAVEN_PORT", "9000"}};
    apply_environment(config, env);

    CHECK(config.auth.jwt_hs256_secret == kSecret);
    CHECK(config.broker.redis_url == "redis://env.example:6380");
    CHECK(config.broker.kind == "redis");
    CHECK(config.auth.guest_secret == kSecret);
    CHECK(config.tls.cert_file == "/run/secrets/cert.pem");
    CHECK(config.tls.key_file == "/run/secrets/key.pem");
    CHECK(config.tls.enabled());
    CHECK(config.server.port == 9000);
}

TEST_CASE("config: unset or empty environment variables leave the file values") {
    Config config = parse_config(
        "[auth]\njwt_hs256_secret = \"" + kSecret + "\"\n[server]\nport = 8181\n", "t");
    FakeEnv env;
    env.vars = {{"HAVEN_JWT_SECRET", ""}, {"HAVEN_PORT", ""}};
    apply_environment(config, env);
    CHECK(config.auth.jwt_hs256_secret == kSecret);
    CHECK(config.server.port == 8181);

    apply_environment(config, FakeEnv{});
    CHECK(config.server.port == 8181);
    CHECK(config.broker.redis_url == "redis://127.0.0.1:6379");
}

TEST_CASE("config: a bad HAVEN_PORT is rejected") {
    for (const char* bad :
         {"abc", "0", "65536", "-1", "80 ", " 80", "+80", "8080x", "1e3", "99999999999999999999"}) {
        Config config;
        FakeEnv env;
        env.vars = {{"HAVEN_PORT", bad}};
        const std::string message = env_error_of(config, env);
        INFO("HAVEN_PORT=" << bad << " -> " << message);
        CHECK(message.rfind("config env HAVEN_PORT: server.port: ", 0) == 0);
        CHECK(message.find("between 1 and 65535") != std::string::npos);
        CHECK(config.server.port == 8080);  // left untouched
    }
    Config config;
    FakeEnv env;
    env.vars = {{"HAVEN_PORT", "65535"}};
    apply_environment(config, env);
    CHECK(config.server.port == 65535);
}

TEST_CASE("config: other bad environment values are rejected") {
    {
        Config config;
        FakeEnv env;
        env.vars = {{"HAVEN_JWT_SECRET", "short-secret"}};
        const std::string message = env_error_of(config, env);
        CHECK(message.rfind("config env HAVEN_JWT_SECRET: auth.jwt_hs256_secret: ", 0) == 0);
        CHECK(message.find("short-secret") == std::string::npos);
    }
    {
        Config config;
        FakeEnv env;
        env.vars = {{"HAVEN_REDIS_URL", "localhost:6379"}};
        CHECK(env_error_of(config, env).find("broker.redis_url") != std::string::npos);
    }
    {
        Config config;
        FakeEnv env;
        env.vars = {{"HAVEN_BROKER", "carrier-pigeon"}};
        CHECK(env_error_of(config, env).rfind("config env HAVEN_BROKER: broker.kind: ", 0) == 0);
        CHECK(config.broker.kind == "memory");
    }
    {
        // Only half of the TLS pair, with nothing in the file to complete it.
        Config config;
        FakeEnv env;
        env.vars = {{"HAVEN_TLS_CERT", "/c.pem"}};
        const std::string message = env_error_of(config, env);
        CHECK(message.find("tls.key") != std::string::npos);
        CHECK(message.find("both or neither") != std::string::npos);
    }
    {
        // Half from the environment, half from the file is a complete pair.
        Config config = parse_config("[tls]\ncert = \"/file.pem\"\nkey = \"/file.key\"\n", "t");
        FakeEnv env;
        env.vars = {{"HAVEN_TLS_KEY", "/env.key"}};
        apply_environment(config, env);
        CHECK(config.tls.cert_file == "/file.pem");
        CHECK(config.tls.key_file == "/env.key");
    }
}

TEST_CASE("config: load_config_file reports unreadable paths") {
    const std::string missing = "/nonexistent/haven-config-test/haven.toml";
    try {
        haven::config::load_config_file(missing);
        FAIL("expected ConfigError");
    } catch (const ConfigError& error) {
        const std::string message = error.what();
        CHECK(message.rfind("config " + missing + ": ", 0) == 0);
        CHECK(message.find("cannot open") != std::string::npos);
    }

    const std::string directory = std::filesystem::temp_directory_path().string();
    try {
        haven::config::load_config_file(directory);
        FAIL("expected ConfigError");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()).find(directory) != std::string::npos);
    }
}

TEST_CASE("config: room kinds round-trip through their names") {
    for (RoomKind kind :
         {RoomKind::drop_in, RoomKind::group, RoomKind::meeting, RoomKind::one_to_one}) {
        const auto parsed = haven::config::room_kind_from_string(haven::config::to_string(kind));
        REQUIRE(parsed.has_value());
        CHECK(*parsed == kind);
    }
    CHECK(haven::config::to_string(RoomKind::one_to_one) == "one_to_one");
    CHECK_FALSE(haven::config::room_kind_from_string("Group").has_value());
    CHECK_FALSE(haven::config::room_kind_from_string("").has_value());
}

TEST_CASE("config: static file options have safe defaults and bounds") {
    const Config defaults = parse_config("", "t");
    CHECK_FALSE(defaults.server.static_follow_symlinks);
    CHECK(defaults.server.static_max_file_bytes == 16 * 1024 * 1024);
    const Config set = parse_config(
        "[server]\nstatic_follow_symlinks = true\nstatic_max_file_bytes = 4096\n", "t");
    CHECK(set.server.static_follow_symlinks);
    CHECK(set.server.static_max_file_bytes == 4096);
    check_error("[server]\nstatic_max_file_bytes = 10\n", "server.static_max_file_bytes",
                "between 1024 and 1073741824");
    check_error("[server]\nstatic_follow_symlinks = 1\n", "server.static_follow_symlinks");
}

TEST_CASE("config: TLS cipher list and HSTS have strict defaults and are checked") {
    const Config defaults = parse_config("", "t");
    CHECK(defaults.tls.ciphers == haven::config::kDefaultTls12Ciphers);
    CHECK(defaults.tls.hsts_max_age_seconds == 31'536'000);
    const Config set = parse_config(
        "[tls]\nciphers = \"ECDHE-RSA-AES256-GCM-SHA384\"\nhsts_max_age_seconds = 0\n", "t");
    CHECK(set.tls.ciphers == "ECDHE-RSA-AES256-GCM-SHA384");
    CHECK(set.tls.hsts_max_age_seconds == 0);
    check_error("[tls]\nciphers = \"\"\n", "tls.ciphers", "OpenSSL cipher list");
    check_error("[tls]\nciphers = \"ECDHE-RSA-AES128-GCM-SHA256 \\n\"\n", "tls.ciphers");
    check_error("[tls]\nhsts_max_age_seconds = 63072001\n", "tls.hsts_max_age_seconds",
                "between 0 and 63072000");
}

TEST_CASE("config: server.metrics_token from the file or HAVEN_METRICS_TOKEN, never echoed") {
    CHECK(parse_config("", "t").server.metrics_token.empty());  // open by default
    const std::string token = "0123456789abcdef-file";
    Config config = parse_config("[server]\nmetrics_token = \"" + token + "\"\n", "t");
    CHECK(config.server.metrics_token == token);
    FakeEnv env;
    env.vars = {{"HAVEN_METRICS_TOKEN", "0123456789abcdef-env"}};
    apply_environment(config, env);
    CHECK(config.server.metrics_token == "0123456789abcdef-env");

    for (const std::string& bad :
         {std::string("too-short"), std::string("has a space in it ok"), std::string(1025, 'x')}) {
        CAPTURE(bad);
        const std::string message = config_error_of("[server]\nmetrics_token = \"" + bad + "\"\n");
        CHECK(message.rfind("config test.toml: server.metrics_token: ", 0) == 0);
        CHECK(message.find(bad) == std::string::npos);
        Config from_env;
        FakeEnv bad_env;
        bad_env.vars = {{"HAVEN_METRICS_TOKEN", bad}};
        const std::string env_message = env_error_of(from_env, bad_env);
        CHECK(env_message.rfind("config env HAVEN_METRICS_TOKEN: server.metrics_token: ", 0) == 0);
        CHECK(env_message.find(bad) == std::string::npos);
    }
}

TEST_CASE("config: [safety] sets the escalation ladder and the webhook, with defaults") {
    const Config defaults = parse_config("", "test.toml");
    CHECK(defaults.safety.claim_timeout_seconds == 60);
    CHECK(defaults.safety.escalation_step_seconds == 60);
    CHECK(defaults.safety.webhook_url.empty());
    CHECK(defaults.safety.webhook_attempts == 5);
    const Config set = parse_config(
        "[safety]\nclaim_timeout_seconds = 30\nescalation_step_seconds = 120\n"
        "webhook_url = \"https://oncall.example.org/haven\"\nwebhook_secret = \"s\"\n"
        "webhook_timeout_ms = 2000\nwebhook_attempts = 3\nwebhook_queue = 10\n",
        "test.toml");
    CHECK(set.safety.claim_timeout_seconds == 30);
    CHECK(set.safety.escalation_step_seconds == 120);
    CHECK(set.safety.webhook_url == "https://oncall.example.org/haven");
    CHECK(set.safety.webhook_secret == "s");
    CHECK(set.safety.webhook_timeout_ms == 2000);
    CHECK(set.safety.webhook_attempts == 3);
    CHECK(set.safety.webhook_queue == 10);
    CHECK(defaults.safety.followup_minutes == 30);
    CHECK(defaults.safety.followup_grace_seconds == 60);
    CHECK(defaults.moderation.hold_timeout_seconds == 1800);
    const Config followup = parse_config(
        "[safety]\nfollowup_minutes = 0\nfollowup_grace_seconds = 5\n"
        "[moderation]\nhold_timeout_seconds = 0\n",
        "test.toml");
    CHECK(followup.safety.followup_minutes == 0);
    CHECK(followup.safety.followup_grace_seconds == 5);
    CHECK(followup.moderation.hold_timeout_seconds == 0);
    CHECK(config_error_of("[safety]\nfollowup_grace_seconds = 0\n")
              .find("safety.followup_grace_seconds") != std::string::npos);
    CHECK(config_error_of("[moderation]\nhold_timeout_seconds = 604801\n")
              .find("moderation.hold_timeout_seconds") != std::string::npos);
    CHECK(config_error_of("[safety]\nclaim_timeout_seconds = 0\n").find("safety.claim_timeout") !=
          std::string::npos);
    CHECK(config_error_of("[safety]\nwebhook_attempts = 21\n").find("safety.webhook_attempts") !=
          std::string::npos);
    CHECK(config_error_of("[safety]\nwebhok_url = \"x\"\n").find("unknown") != std::string::npos);
    // A webhook address may carry a token: the error does not repeat it.
    const std::string bad = config_error_of("[safety]\nwebhook_url = \"ftp://tok3n@host\"\n");
    CHECK(bad.find("safety.webhook_url") != std::string::npos);
    CHECK(bad.find("tok3n") == std::string::npos);
}

TEST_CASE("config: a meeting room's [rooms.schedule] is read and checked, naming the key") {
    const Config config = parse_config(
        "[[rooms]]\nid = \"m\"\ntitle = \"M\"\nkind = \"meeting\"\n"
        "[rooms.schedule]\ntime_zone = \"Europe/Berlin\"\ndays = [\"mon\", \"thu\"]\n"
        "start = \"19:00\"\ndates = [\"2026-12-24 18:00\"]\nduration_minutes = 60\n",
        "t");
    REQUIRE(config.rooms.size() == 1);
    REQUIRE(config.rooms[0].schedule);
    const haven::config::MeetingScheduleConfig& schedule = *config.rooms[0].schedule;
    CHECK(schedule.time_zone == "Europe/Berlin");
    CHECK(schedule.days == std::vector<std::string>{"mon", "thu"});
    CHECK(schedule.start == "19:00");
    CHECK(schedule.duration_minutes == 60);
    CHECK(schedule.doors_open_minutes == 10);  // defaults
    CHECK(schedule.late_entry_minutes == 15);

    const std::string room = "[[rooms]]\nid = \"m\"\ntitle = \"M\"\nkind = \"meeting\"\n";
    const auto error_of = [&](const std::string& schedule_lines) {
        return config_error_of(room + "[rooms.schedule]\n" + schedule_lines);
    };
    CHECK(error_of("days = [\"mon\"]\nstart = \"19:00\"\n")
              .find("rooms[0].schedule.time_zone: "
                    "is required") != std::string::npos);
    CHECK(error_of("time_zone = \"Mars/Olympus\"\ndays = [\"mon\"]\nstart = \"19:00\"\n")
              .find("rooms[0].schedule.time_zone: is not a time zone") != std::string::npos);
    CHECK(error_of("time_zone = \"UTC\"\ndays = [\"monday\"]\nstart = \"19:00\"\n")
              .find("rooms[0].schedule.days[0]: must be one of") != std::string::npos);
    CHECK(error_of("time_zone = \"UTC\"\ndays = [\"mon\"]\nstart = \"24:00\"\n")
              .find("rooms[0].schedule.start: must be a local time") != std::string::npos);
    CHECK(error_of("time_zone = \"UTC\"\ndays = [\"mon\"]\n").find("schedule.start: is required") !=
          std::string::npos);
    CHECK(error_of("time_zone = \"UTC\"\ndates = [\"2026-02-30 10:00\"]\n")
              .find("rooms[0].schedule.dates[0]: must be a local date") != std::string::npos);
    CHECK(error_of("time_zone = \"UTC\"\n").find("or dates is required") != std::string::npos);
    CHECK(error_of("time_zone = \"UTC\"\ndates = [\"2026-12-24 18:00\"]\nlate_entry_minutes = 91\n")
              .find("late_entry_minutes") != std::string::npos);
    CHECK(error_of("time_zone = \"UTC\"\ndates = [\"2026-12-24 18:00\"]\ncolour = 1\n")
              .find("schedule.colour: unknown key") != std::string::npos);
    // Only meeting rooms meet.
    CHECK(config_error_of("[[rooms]]\nid = \"d\"\ntitle = \"D\"\n[rooms.schedule]\n"
                          "time_zone = \"UTC\"\ndates = [\"2026-12-24 18:00\"]\n")
              .find("rooms[0].schedule: is for rooms of kind meeting") != std::string::npos);
}

TEST_CASE("config: a meeting room's agreements have a version and a text; line breaks are kept") {
    const std::string room = "[[rooms]]\nid = \"m\"\ntitle = \"M\"\nkind = \"meeting\"\n";
    const Config config =
        parse_config(room + "[rooms.agreements]\nversion = \"v2\"\ntext = \"One.\\nTwo.\"\n", "t");
    REQUIRE(config.rooms[0].agreements);
    CHECK(config.rooms[0].agreements->version == "v2");
    CHECK(config.rooms[0].agreements->text == "One.\nTwo.");
    CHECK(config_error_of(room + "[rooms.agreements]\ntext = \"x\"\n")
              .find("rooms[0].agreements.version: is required") != std::string::npos);
    CHECK(config_error_of(room + "[rooms.agreements]\nversion = \"v\"\ntext = \" \\n \"\n")
              .find("agreements.text: must not be empty") != std::string::npos);
    CHECK(config_error_of(room + "[rooms.agreements]\nversion = \"v\"\ntext = \"a\\tb\"\n")
              .find("agreements.text: must not contain control") != std::string::npos);
    CHECK(config_error_of("[[rooms]]\nid = \"d\"\ntitle = \"D\"\n[rooms.agreements]\n"
                          "version = \"v\"\ntext = \"x\"\n")
              .find("rooms[0].agreements: is for rooms of kind meeting") != std::string::npos);
}
