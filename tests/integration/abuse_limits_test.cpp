// The abuse limits, tried as a troll would: many connections or half-open sockets from one
// address, throwaway guests, join/leave churn, paging through history, a large frame trickled
// in, flags from guests made a moment ago, and a ban escaped by entering again. Each limit is
// lowered in its test so a few clients reach it; other addresses (127.0.0.2 and up, or a
// client a trusted proxy names) must stay unaffected.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"
#include "integration/raw_websocket.hpp"

namespace haven::test {
namespace {

using namespace std::chrono_literals;

std::optional<std::uint64_t> refused_metric(const ServerProcess& server, const char* reason) {
    return metric(server, std::string("haven_refused_total{reason=\"") + reason + "\"}");
}

ConnectOptions from(const std::string& source_address) {
    ConnectOptions options = options_for(Encoding::binary);
    options.source_address = source_address;
    return options;
}

ConnectOptions forwarded_for(const std::string& client) {
    ConnectOptions options = options_for(Encoding::binary);
    options.extra_headers["X-Forwarded-For"] = client;
    return options;
}

v1::ClientMessage msg_ban(const std::string& room, const std::string& member_id) {
    v1::ClientMessage message;
    message.mutable_moderate()->set_room_id(room);
    message.mutable_moderate()->set_action(v1::BAN);
    message.mutable_moderate()->set_member_id(member_id);
    message.mutable_moderate()->set_duration_seconds(3600);
    message.mutable_moderate()->set_reason("harassment");
    return message;
}

v1::ClientMessage msg_flag(const std::string& room, std::uint64_t seq) {
    v1::ClientMessage message;
    message.mutable_flag()->set_room_id(room);
    message.mutable_flag()->set_seq(seq);
    message.mutable_flag()->set_reason(v1::FLAG_SPAM);
    return message;
}

bool is_ack(const v1::ServerMessage& reply) {
    INFO("reply: " << describe(reply));
    return reply.has_ack();
}

// ---- per address ---------------------------------------------------------------------------

TEST_CASE(
    "abuse: one address holds at most connections_per_address connections; others are served") {
    ServerProcess server({.toml = "[limits]\nconnections_per_address = 5\n"});
    require_started(server);
    std::vector<std::unique_ptr<Client>> held;
    for (int i = 0; i < 5; ++i) {
        held.push_back(std::make_unique<Client>(server, Encoding::binary));
        held.back()->hello_guest();
    }
    Client sixth;
    CHECK_FALSE(sixth.connect(server, Encoding::binary).ok);
    // Another address is another person.
    Client elsewhere(server, Encoding::binary, from("127.0.0.2"));
    elsewhere.hello_guest();
    // A connection that ends gives its place back.
    held.pop_back();
    CHECK(eventually([&] { return Client().connect(server, Encoding::binary).ok; }, 5s, 50ms));
    for (auto& client : held) client->ping();  // untouched
    // (Read with one place free: /metrics is a connection from this address too.)
    CHECK(refused_metric(server, "connections_per_address") >= 1u);
}

TEST_CASE("abuse: sockets that never upgrade are capped per address, so they lock nobody out") {
    ServerProcess server({.toml = "[limits]\nupgrades_per_address = 4\n"});
    require_started(server);
    std::vector<std::unique_ptr<RawTcp>> half_open;
    for (int i = 0; i < 5; ++i) {
        half_open.push_back(std::make_unique<RawTcp>());
        REQUIRE(half_open.back()->connect(server.port()));
    }
    // One of the five (whichever the server accepted last: the shards accept side by side) is
    // closed at once; it costs the server nothing. The others wait for their deadline.
    std::size_t closed = 0;
    for (const auto& tcp : half_open) closed += tcp->wait_closed_by_peer(500ms) ? 1 : 0;
    CHECK(closed == 1);
    // The person next door connects as usual.
    Client neighbour(server, Encoding::binary, from("127.0.0.3"));
    neighbour.hello_guest();
    neighbour.join("lobby");
    // Once the half-open sockets go, the address upgrades again.
    half_open.clear();
    CHECK(eventually([&] { return Client().connect(server, Encoding::binary).ok; }, 5s, 50ms));
    CHECK(refused_metric(server, "upgrades_per_address") >= 1u);
}

TEST_CASE("abuse: an address mints new_guests_per_address_per_hour guests, passes still work") {
    ServerProcess server({.toml = "[limits]\nnew_guests_per_address_per_hour = 3\n"});
    require_started(server);
    std::string pass;
    for (int i = 0; i < 3; ++i) {
        Client guest(server, Encoding::binary);
        pass = guest.hello_guest().guest_token();
    }
    Client fourth(server, Encoding::json);
    const v1::ServerMessage reply = fourth.reply(fourth.send(msg_hello_guest("Throwaway")));
    REQUIRE(reply.has_error());
    CHECK(reply.error().code() == v1::RATE_LIMITED);
    // A new guest is allowed every 20 minutes at this limit.
    CHECK(reply.error().retry_after_ms() > 60'000u);
    CHECK(reply.error().retry_after_ms() <= 1'200'001u);
    CHECK(refused_metric(server, "new_guests_per_address") == 1u);
    // A returning guest is not a new one.
    Client returning(server, Encoding::binary);
    returning.hello_guest("", pass);
    // Signed-in people are not counted.
    ServerProcess signed_in_server(
        {.toml = jwt_auth_toml() + "[limits]\nnew_guests_per_address_per_hour = 1\n"});
    require_started(signed_in_server);
    Client first(signed_in_server, Encoding::binary);
    first.hello_guest();
    Client member(signed_in_server, Encoding::binary);
    member.hello_token(make_token("sub-kim", "Kim", "participant", 3600));
    // Another address has its own budget.
    Client other(server, Encoding::binary, from("127.0.0.4"));
    other.hello_guest();
}

TEST_CASE("abuse: behind a trusted proxy the limits count the client it names, not the proxy") {
    ServerProcess server({.toml = "[server]\ntrusted_proxies = [\"127.0.0.0/8\"]\n"
                                  "[limits]\nnew_guests_per_address_per_hour = 2\n"});
    require_started(server);
    for (int i = 0; i < 2; ++i) {
        Client guest(server, Encoding::binary, forwarded_for("203.0.113.7"));
        guest.hello_guest();
    }
    Client third(server, Encoding::binary, forwarded_for("203.0.113.7"));
    CHECK(third.error_reply(third.send(msg_hello_guest())) == v1::RATE_LIMITED);
    // Another client of the same proxy; and a spoofed hop left of the proxy's is not believed.
    Client other(server, Encoding::binary, forwarded_for("203.0.113.8"));
    other.hello_guest();
    Client spoofing(server, Encoding::binary, forwarded_for("198.51.100.1, 203.0.113.7"));
    CHECK(spoofing.error_reply(spoofing.send(msg_hello_guest())) == v1::RATE_LIMITED);

    // Without the proxy trusted, X-Forwarded-For is the client's own word and ignored.
    ServerProcess direct({.toml = "[server]\ntrusted_proxies = [\"10.0.0.0/8\"]\n"
                                  "[limits]\nnew_guests_per_address_per_hour = 1\n"});
    require_started(direct);
    Client once(direct, Encoding::binary, forwarded_for("203.0.113.9"));
    once.hello_guest();
    Client again(direct, Encoding::binary, forwarded_for("203.0.113.10"));
    CHECK(again.error_reply(again.send(msg_hello_guest())) == v1::RATE_LIMITED);
}

// ---- per session ---------------------------------------------------------------------------

TEST_CASE("abuse: going on and off duty shares the join and leave budget") {
    ServerProcess server(
        {.toml = jwt_auth_toml() + "[limits]\njoin_leave_per_second = 1.0\njoin_leave_burst = 4\n"});
    require_started(server);
    Client mod(server, Encoding::binary);
    mod.hello_token(make_token("sub-duty", "Dee", "moderator", 3600));
    int accepted = 0;
    v1::ErrorCode refusal = v1::ERROR_UNSPECIFIED;
    for (int i = 0; i < 20 && refusal == v1::ERROR_UNSPECIFIED; ++i) {
        v1::ClientMessage toggle;
        toggle.mutable_set_duty()->set_on_duty(i % 2 == 0);
        const v1::ServerMessage reply = mod.reply(mod.send(toggle));
        if (reply.has_error()) {
            refusal = reply.error().code();
            CHECK(reply.error().message().find("on and off duty") != std::string::npos);
        } else {
            ++accepted;
        }
    }
    CHECK(refusal == v1::RATE_LIMITED);
    CHECK(accepted == 4);
}

TEST_CASE("abuse: join and leave churn is limited per session, the room hears a bounded amount") {
    ServerProcess server({.toml = "[limits]\njoin_leave_per_second = 1.0\njoin_leave_burst = "
                                  "6\npresence_delay_ms = 0\n"});
    require_started(server);
    Client watcher = guest_in(server, Encoding::binary, "lobby", "Watcher");
    Client churner(server, Encoding::json);
    churner.hello_guest("Churner");
    int accepted = 0;
    v1::ErrorCode refusal = v1::ERROR_UNSPECIFIED;
    for (int i = 0; i < 20 && refusal == v1::ERROR_UNSPECIFIED; ++i) {
        const bool joining = i % 2 == 0;
        const v1::ServerMessage reply =
            churner.reply(churner.send(joining ? msg_join("lobby") : msg_leave("lobby")));
        if (reply.has_error()) {
            refusal = reply.error().code();
            CHECK(reply.error().retry_after_ms() > 0u);
            CHECK(reply.error().retry_after_ms() <= 1001u);
        } else {
            ++accepted;
        }
    }
    CHECK(refusal == v1::RATE_LIMITED);
    CHECK(accepted == 6);
    CHECK(refused_metric(server, "join_leave_rate") == 1u);
    // The watcher saw one join or leave per accepted request, not more.
    std::size_t presence = 0;
    for (const auto& m : watcher.collect(500ms)) {
        if (m.has_event() && (m.event().has_member_joined() || m.event().has_member_left())) {
            ++presence;
        }
    }
    CHECK(presence <= 6u);
    // The budget refills: a second later the session may join again.
    std::this_thread::sleep_for(1100ms);
    churner.inbox().clear();
    CHECK(churner.reply(churner.send(msg_join("lobby"))).has_joined());
    CHECK(churner.error_reply(churner.send(msg_leave("lobby"))) == v1::RATE_LIMITED);
}

TEST_CASE("abuse: history paging is limited by events read per minute") {
    ServerProcess server({.toml = "[limits]\nhistory_events_per_minute = 300\n"
                                  "posts_per_second = 1000.0\npost_burst = 1000\n"
                                  "[history]\nmax_page = 100\n"});
    require_started(server);
    Client reader = guest_in(server, Encoding::binary, "lobby");
    for (int i = 0; i < 5; ++i) reader.post("lobby", "post " + std::to_string(i));
    for (int page = 0; page < 3; ++page) {
        CHECK(reader.reply(reader.send(msg_history("lobby", 0, 0, 100))).has_history());
    }
    const v1::ServerMessage refused = reader.reply(reader.send(msg_history("lobby", 0, 0, 100)));
    REQUIRE(refused.has_error());
    CHECK(refused.error().code() == v1::RATE_LIMITED);
    // 100 events at 5 a second: about 20 s.
    CHECK(refused.error().retry_after_ms() > 15'000u);
    CHECK(refused.error().retry_after_ms() <= 20'001u);
    // Small pages cost little: another session pages freely within its own budget.
    Client other = guest_in(server, Encoding::binary, "lobby");
    for (int page = 0; page < 30; ++page) {
        CHECK(other.reply(other.send(msg_history("lobby", 0, 0, 10))).has_history());
    }
    CHECK(refused_metric(server, "history_rate") == 1u);
}

// ---- memory while a frame arrives ------------------------------------------------------------

// The header and the first `sent` bytes of a binary frame announcing `length` payload bytes.
std::string frame_start(std::size_t length, std::size_t sent) {
    std::string frame;
    frame.push_back(static_cast<char>(0x82));
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(length >> 8));
    frame.push_back(static_cast<char>(length & 0xFF));
    frame.append("\x01\x02\x03\x04", 4);  // mask
    frame.append(sent, 'x');
    return frame;
}

std::optional<std::uint16_t> close_code_of(RawFrameReader& reader, Millis timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto frame = reader.next(500ms);
        if (!frame) continue;
        if (frame->opcode == 0x8 && frame->payload.size() >= 2) {
            return static_cast<std::uint16_t>((static_cast<unsigned char>(frame->payload[0]) << 8) |
                                              static_cast<unsigned char>(frame->payload[1]));
        }
    }
    return std::nullopt;
}

TEST_CASE("abuse: a frame trickled in is cut after upload_timeout_ms with 1008") {
    ServerProcess server({.toml = "[limits]\nupload_timeout_ms = 1500\n"});
    require_started(server);
    RawTcp tcp;
    RawFrameReader reader(tcp);
    open_upgraded(tcp, reader, server.port());
    REQUIRE(tcp.send(frame_start(30'000, 100)));
    // A byte now and then keeps the connection from being idle, not the frame from being late.
    const auto started = std::chrono::steady_clock::now();
    std::optional<std::uint16_t> code;
    while (!code && std::chrono::steady_clock::now() - started < 8s) {
        tcp.send("y");
        code = close_code_of(reader, 300ms);
    }
    CHECK(code == std::optional<std::uint16_t>(1008));
    CHECK(std::chrono::steady_clock::now() - started >= 1400ms);
    CHECK(refused_metric(server, "upload_timeout") == 1u);
    // Ordinary clients post large posts well within the time.
    Client writer = guest_in(server, Encoding::binary, "lobby");
    writer.post("lobby", std::string(3000, 'z'));
}

TEST_CASE("abuse: unfinished frames of one address share address_buffer_bytes") {
    ServerProcess server({.toml = "[limits]\naddress_buffer_bytes = 65536\n"});
    require_started(server);
    RawTcp first_tcp, second_tcp, elsewhere_tcp;
    RawFrameReader first(first_tcp), second(second_tcp), elsewhere(elsewhere_tcp);
    open_upgraded(first_tcp, first, server.port(), "127.0.0.1");
    open_upgraded(second_tcp, second, server.port(), "127.0.0.1");
    open_upgraded(elsewhere_tcp, elsewhere, server.port(), "127.0.0.5");
    // 40 KB of a 60 KB frame each: the second connection takes the address past 64 KiB.
    REQUIRE(first_tcp.send(frame_start(60'000, 40'000)));
    std::this_thread::sleep_for(300ms);
    REQUIRE(second_tcp.send(frame_start(60'000, 40'000)));
    CHECK(close_code_of(second, 5s) == std::optional<std::uint16_t>(1009));
    CHECK(refused_metric(server, "address_buffer") == 1u);
    // Another address has its own budget.
    REQUIRE(elsewhere_tcp.send(frame_start(60'000, 40'000)));
    // The first connection finishes its frame and is answered (the bytes are no protobuf
    // message: BAD_FRAME, which means it was read whole).
    REQUIRE(first_tcp.send(std::string(20'000, 'x')));
    bool answered = false;
    for (const v1::ServerMessage& m : first.messages(1, 5s)) answered = m.has_error();
    CHECK(answered);
    CHECK(refused_metric(server, "address_buffer") == 1u);  // the other address was not cut
}

// ---- flags and bans --------------------------------------------------------------------------

TEST_CASE("abuse: flags from guests who just joined reach moderators but hide nothing") {
    ServerProcess server(
        {.toml = jwt_auth_toml() + "[moderation]\nflag_threshold = 2\nflag_trust_minutes = 10\n"});
    require_started(server);
    Client moderator(server, Encoding::binary);
    moderator.hello_token(make_token("sub-mod", "Mo", "moderator", 3600));
    moderator.join("lobby");
    Client author = guest_in(server, Encoding::binary, "lobby", "Author");
    const std::uint64_t seq = author.post("lobby", "an ordinary post").seq();
    for (const char* name : {"Throwaway One", "Throwaway Two", "Throwaway Three"}) {
        Client troll = guest_in(server, Encoding::binary, "lobby", name);
        CHECK(is_ack(troll.reply(troll.send(msg_flag("lobby", seq)))));
    }
    // Every flag reached the moderators...
    std::uint32_t flag_count = 0;
    for (const auto& m : moderator.collect(800ms)) {
        if (m.has_moderation_item()) flag_count = m.moderation_item().flag_count();
        // ...and the post was never hidden.
        CHECK_FALSE((m.has_event() && m.event().has_post_hidden()));
    }
    CHECK(flag_count == 3u);
    // Two signed-in people's flags do hide it.
    for (const char* subject : {"sub-ana", "sub-ben"}) {
        Client member(server, Encoding::binary);
        member.hello_token(make_token(subject, subject, "participant", 3600));
        member.join("lobby");
        CHECK(is_ack(member.reply(member.send(msg_flag("lobby", seq)))));
    }
    moderator.expect(
        [](const v1::ServerMessage& m) { return m.has_event() && m.event().has_post_hidden(); },
        "the post hidden by trusted flags");
}

TEST_CASE("abuse: a guest's ban holds against a new guest from their address, on every instance") {
    TwoInstances cluster("bans");
    const ServerProcess& a = *cluster.first;
    const ServerProcess& b = *cluster.second;
    Client moderator(a, Encoding::binary);
    moderator.hello_token(make_token("sub-mod", "Mo", "moderator", 3600));
    moderator.join("lobby");
    Client troll = guest_in(a, Encoding::binary, "lobby", "Troll", from("127.0.0.6"));
    CHECK(is_ack(moderator.reply(moderator.send(msg_ban("lobby", troll.member_id())))));
    CHECK(troll.wait_close() == std::optional<std::uint16_t>(4003));

    // A new guest from the same address, on the other instance: refused.
    Client again(b, Encoding::binary, from("127.0.0.6"));
    again.hello_guest("Totally New");
    CHECK(again.error_reply(again.send(msg_join("lobby"))) == v1::BANNED);
    CHECK(refused_metric(b, "banned_address") == 1u);
    // Someone from another address joins as usual, on either instance.
    Client neighbour = guest_in(b, Encoding::binary, "lobby", "Neighbour", from("127.0.0.7"));
    neighbour.ping();
}

}  // namespace
}  // namespace haven::test
