// The chat engine end to end without sockets: the real engine (app/chat_engine) on two shards,
// a real memory broker, a router with one event loop per shard run in a random interleaving,
// and connections that record what they are sent.
// Over 400 lines: the fixture (router, recording connections, clients) and the cases that use it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "app/chat_engine.hpp"
#include "auth/guest_pass.hpp"
#include "broker/memory_broker.hpp"
#include "core/shard_identity.hpp"
#include "moderation/crisis_detector.hpp"
#include "session/client_session.hpp"
#include "support/token_factory.hpp"

using namespace haven;
using protocol::Encoding;

namespace {

const std::string kSecret = "a-test-secret-that-is-long-enough-123";

// What the real router promises and no more: each shard runs its own tasks in the order they
// were posted, and the shards interleave. Each shard has a real event loop (the owner flows
// are coroutines on it); this thread runs one ready handler of one shard at a time, and which
// shard runs next is picked at random (seeded, so a failure repeats), so a test cannot lean on
// an order between shards that threads would not keep.
class QueueRouter final : public core::ShardRouter {
public:
    explicit QueueRouter(unsigned shards) {
        for (unsigned i = 0; i < shards; ++i) {
            loops_.push_back(std::make_unique<boost::asio::io_context>(1));
            // Kept from running out of work, so an idle loop can be polled again.
            guards_.emplace_back(loops_.back()->get_executor());
        }
    }
    unsigned shard_count() const override { return static_cast<unsigned>(loops_.size()); }
    void post(unsigned shard, core::Task task) override {
        boost::asio::post(*loops_.at(shard), std::move(task));
    }
    // Time passes only when nothing else is left to do: delayed tasks run after every task
    // queued before them, and in the order of their delays.
    void post_after(unsigned shard, std::chrono::milliseconds delay, core::Task task) override {
        delayed_.emplace(delay.count(), std::make_pair(shard, std::move(task)));
        ++delayed_posts;
    }
    boost::asio::io_context& context(unsigned shard) override { return *loops_.at(shard); }

    // Runs `shard`'s loop alone until it has nothing ready (what that shard does before the
    // others get to run).
    void drain_only(unsigned shard) {
        for (int guard = 0; guard < 100000 && run_one(shard); ++guard) {
        }
    }
    void drain() {
        std::vector<unsigned> order(loops_.size());
        for (int guard = 0; guard < 100000; ++guard) {
            // Shards in a random order; the first with a ready handler runs one.
            for (unsigned i = 0; i < order.size(); ++i) order[i] = i;
            std::shuffle(order.begin(), order.end(), rng_);
            bool ran = false;
            for (unsigned shard : order) {
                if (run_one(shard)) {
                    ran = true;
                    break;
                }
            }
            if (ran) continue;
            if (delayed_.empty()) return;
            auto& [shard, task] = delayed_.begin()->second;
            post(shard, std::move(task));
            delayed_.erase(delayed_.begin());
        }
    }

private:
    bool run_one(unsigned shard) {
        // Each handler runs as its shard, so the ownership checks apply here too.
        const core::ShardScope running(shard);
        return loops_[shard]->poll_one() != 0;
    }

    std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
    // by delay
    std::multimap<std::int64_t, std::pair<unsigned, core::Task>> delayed_;
    std::mt19937 rng_{seed()};

    // HAVEN_HUB_TEST_SEED picks another interleaving.
    static unsigned seed() {
        const char* text = std::getenv("HAVEN_HUB_TEST_SEED");
        return text != nullptr ? static_cast<unsigned>(std::strtoul(text, nullptr, 10)) : 20261201u;
    }

public:
    std::size_t delayed_posts = 0;  // tasks ever posted with a delay
};

class RecordingConnection final : public session::Connection {
public:
    explicit RecordingConnection(Encoding encoding) : encoding_(encoding) {}
    void send(protocol::Frame frame) override {
        v1::ServerMessage message;
        REQUIRE(protocol::decode_server(*frame, encoding_, message));
        received.push_back(message);
    }
    // A batch is read from its wire bytes, as a client would read them off the socket.
    void send_batch(const protocol::FrameBatch& batch) override {
        const std::string& wire = *batch.wire;
        const auto opcode = encoding_ == Encoding::json ? 0x81 : 0x82;
        std::size_t at = 0;
        std::size_t frames = 0;
        while (at < wire.size()) {
            REQUIRE(wire.size() - at >= 2);
            CHECK(static_cast<unsigned char>(wire[at]) == opcode);
            std::uint64_t length = static_cast<unsigned char>(wire[at + 1]);
            at += 2;
            const std::size_t extra = length == 126 ? 2 : length == 127 ? 8 : 0;
            if (extra != 0) {
                REQUIRE(wire.size() - at >= extra);
                length = 0;
                for (std::size_t i = 0; i < extra; ++i)
                    length = length << 8 | static_cast<unsigned char>(wire[at + i]);
                at += extra;
            }
            REQUIRE(wire.size() - at >= length);
            v1::ServerMessage message;
            REQUIRE(protocol::decode_server(std::string_view(wire).substr(at, length), encoding_,
                                            message));
            received.push_back(message);
            at += length;
            ++frames;
        }
        CHECK(frames == batch.frames.size());
        batch_sizes.push_back(frames);
    }
    void close(protocol::CloseCode code) override { closed_with = code; }

    std::vector<v1::ServerMessage> received;
    std::vector<std::size_t> batch_sizes;  // frames in each batch received
    std::optional<protocol::CloseCode> closed_with;

private:
    Encoding encoding_;
};

config::Config test_config() {
    config::Config config;
    config.auth.guest_enabled = true;
    config.auth.jwt_hs256_secret = kSecret;
    config.limits.posts_per_second = 1000;
    config.limits.post_burst = 1000;
    config.rooms = {{"lobby", "Lobby", "Say hello", config::RoomKind::drop_in, 200},
                    {"small", "Small", "Two at most", config::RoomKind::meeting, 2},
                    {"group", "Group", "A topic", config::RoomKind::group, 50}};
    return config;
}

struct Server {
    explicit Server(config::Config cfg = test_config())
        : config(std::move(cfg)),
          directory(config.rooms, 2),
          tokens({config.auth.jwt_hs256_secret, "", 30}),
          passes(kSecret),
          context{config, directory, tokens, passes, metrics, "test"},
          router(2),
          engine(context, router, [this](unsigned, broker::BrokerSink& sink) {
              return std::make_unique<broker::MemoryBroker>(config.history, sink,
                                                            [this] { return now_ms; });
          }) {}
    ~Server() {
        // As the server does: nothing posted any more, then the brokers go before the loops.
        engine.stop_routing();
        engine.release_brokers();
    }

    config::Config config;
    core::Metrics metrics{2};
    rooms::RoomDirectory directory;
    auth::JwtVerifier tokens;
    auth::GuestPasses passes;
    core::ServerContext context;
    QueueRouter router;
    std::uint64_t now_ms = 1'700'000'000'000;
    app::ChatEngine engine;
};

// A client as the chat logic sees it: a session on one shard plus what it was sent.
struct Client {
    Client(Server& server, unsigned shard, Encoding encoding = Encoding::binary)
        : server(server),
          connection(encoding),
          session(server.engine.services(shard), connection, encoding) {
        session.on_open(core::steady_now());
    }

    // Hands the session a message as if read off its socket, without letting the shards run:
    // several of these stand for messages read in the same turn of the event loop.
    void read(v1::ClientMessage message) {
        message.set_request_id(++next_request);
        session.on_frame(protocol::encode_client(message, connection_encoding()),
                         connection_encoding() == Encoding::json);
    }
    // A message, then everything it sets off on every shard.
    void send(v1::ClientMessage message) {
        read(std::move(message));
        server.router.drain();
    }
    Encoding connection_encoding() const { return session.encoding(); }

    static v1::ClientMessage join_message(const std::string& room, std::uint64_t since = 0) {
        v1::ClientMessage m;
        m.mutable_join()->set_room_id(room);
        m.mutable_join()->set_since_seq(since);
        return m;
    }
    static v1::ClientMessage post_message(const std::string& room, const std::string& text,
                                          const std::string& id = "") {
        v1::ClientMessage m;
        m.mutable_post()->set_room_id(room);
        m.mutable_post()->set_text(text);
        m.mutable_post()->set_client_msg_id(id);
        return m;
    }

    void hello_guest(const std::string& handle = "") {
        v1::ClientMessage m;
        m.mutable_hello()->set_guest(true);
        m.mutable_hello()->set_guest_handle(handle);
        send(m);
    }
    void join(const std::string& room, std::uint64_t since = 0) { send(join_message(room, since)); }
    void post(const std::string& room, const std::string& text, const std::string& id = "") {
        send(post_message(room, text, id));
    }

    const v1::ServerMessage& last() const { return connection.received.back(); }
    // The answer to the latest request: room events reach their members at the end of the
    // loop turn, so they may come after it. An empty message when there was none.
    const v1::ServerMessage& reply() const {
        static const v1::ServerMessage none;
        for (auto it = connection.received.rbegin(); it != connection.received.rend(); ++it) {
            if (it->request_id() == next_request) return *it;
        }
        return none;
    }
    std::vector<v1::Event> events(v1::Event::KindCase kind) const {
        std::vector<v1::Event> out;
        for (const auto& m : connection.received) {
            if (m.has_event() && m.event().kind_case() == kind) out.push_back(m.event());
        }
        return out;
    }
    const v1::ServerMessage* find(v1::ServerMessage::BodyCase body) const {
        for (auto it = connection.received.rbegin(); it != connection.received.rend(); ++it) {
            if (it->body_case() == body) return &*it;
        }
        return nullptr;
    }
    v1::ErrorCode last_error() const {
        const auto* m = find(v1::ServerMessage::kError);
        return m ? m->error().code() : v1::ERROR_UNSPECIFIED;
    }

    Server& server;
    RecordingConnection connection;
    session::ClientSession session;
    std::uint64_t next_request = 0;
};

}  // namespace

TEST_CASE("guest hello is welcomed with a handle, limits, rooms and a guest pass") {
    Server server;
    Client alice(server, 0);
    alice.hello_guest("Alice R");
    REQUIRE(alice.last().has_welcome());
    const v1::Welcome& welcome = alice.last().welcome();
    CHECK(welcome.handle() == "Alice R");
    CHECK(welcome.role() == v1::ROLE_PARTICIPANT);
    CHECK(welcome.rooms_size() == 3);
    CHECK(welcome.limits().max_post_chars() == server.config.limits.max_post_chars);
    CHECK_FALSE(welcome.guest_token().empty());
    CHECK(alice.last().request_id() == 1);

    Client anonymous(server, 1);
    anonymous.hello_guest();
    CHECK_FALSE(anonymous.last().welcome().handle().empty());

    // A guest's identity: "g:" and 13 random URL-safe characters, different for each guest.
    for (const Client* guest : {&alice, &anonymous}) {
        const std::string& subject = guest->session.subject();
        CHECK(subject.size() == 15);
        CHECK(subject.rfind("g:", 0) == 0);
        CHECK(subject.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 2) ==
              std::string::npos);
    }
    CHECK(alice.session.subject() != anonymous.session.subject());
}

TEST_CASE("requests before Hello and repeated Hellos are refused") {
    Server server;
    Client c(server, 0);
    c.join("lobby");
    CHECK(c.last_error() == v1::NOT_AUTHENTICATED);
    c.hello_guest();
    c.hello_guest();
    CHECK(c.last_error() == v1::ALREADY_AUTHENTICATED);
}

TEST_CASE("token hello takes handle and role from the claims, bad tokens fail") {
    Server server;
    const std::int64_t exp = core::wall_seconds() + 600;
    Client mod(server, 0);
    v1::ClientMessage hello;
    hello.mutable_hello()->set_token(test::make_hs256_token(
        R"({"sub":"u-1","name":"Mod Mo","role":"moderator","exp":)" + std::to_string(exp) + "}",
        kSecret));
    mod.send(hello);
    REQUIRE(mod.last().has_welcome());
    CHECK(mod.last().welcome().handle() == "Mod Mo");
    CHECK(mod.last().welcome().role() == v1::ROLE_MODERATOR);
    CHECK(mod.last().welcome().guest_token().empty());

    Client expired(server, 1);
    hello.mutable_hello()->set_token(
        test::make_hs256_token(R"({"sub":"u-2","name":"Late","exp":1000})", kSecret));
    expired.send(hello);
    CHECK(expired.last_error() == v1::AUTH_FAILED);

    hello.mutable_hello()->set_token(test::make_unsigned_token(
        R"({"sub":"u-2","name":"None","exp":)" + std::to_string(exp) + "}"));
    expired.send(hello);
    CHECK(expired.last_error() == v1::AUTH_FAILED);
    CHECK_FALSE(expired.session.authenticated());
}

TEST_CASE("five failed hellos close the connection") {
    Server server;
    Client c(server, 0);
    v1::ClientMessage hello;
    hello.mutable_hello()->set_token("not.a.token");
    for (int i = 0; i < 5; ++i) c.send(hello);
    REQUIRE(c.connection.closed_with);
    CHECK(*c.connection.closed_with == protocol::CloseCode::policy_violation);
}

TEST_CASE("guests are refused when guest mode is off") {
    config::Config config = test_config();
    config.auth.guest_enabled = false;
    Server server(config);
    Client c(server, 0);
    c.hello_guest();
    CHECK(c.last_error() == v1::GUESTS_DISABLED);
}

TEST_CASE("join, post, ack and fan-out across shards with gap-free sequence numbers") {
    Server server;
    Client alice(server, 0);
    Client bob(server, 1, Encoding::json);
    alice.hello_guest("Alice");
    bob.hello_guest("Bob");
    alice.join("lobby");
    REQUIRE(alice.last().has_joined());
    CHECK(alice.last().joined().members_size() == 1);
    CHECK(alice.last().joined().recovered());
    bob.join("lobby");
    REQUIRE(bob.last().has_joined());
    CHECK(bob.last().joined().members_size() == 2);
    CHECK(alice.events(v1::Event::kMemberJoined).size() == 1);
    CHECK(alice.events(v1::Event::kMemberJoined)[0].member_joined().member().handle() == "Bob");

    for (int i = 1; i <= 20; ++i) alice.post("lobby", "message " + std::to_string(i));
    const auto alice_posts = alice.events(v1::Event::kPosted);
    const auto bob_posts = bob.events(v1::Event::kPosted);
    REQUIRE(alice_posts.size() == 20);
    REQUIRE(bob_posts.size() == 20);
    for (std::size_t i = 0; i < 20; ++i) {
        CHECK(alice_posts[i].seq() == i + 1);
        CHECK(bob_posts[i].seq() == i + 1);
        CHECK(bob_posts[i].posted().author().handle() == "Alice");
        CHECK(bob_posts[i].posted().text() == "message " + std::to_string(i + 1));
    }
    const auto* ack = alice.find(v1::ServerMessage::kAck);
    REQUIRE(ack);
    CHECK(ack->ack().seq() == 20);
    CHECK(ack->request_id() == alice.next_request);
}

TEST_CASE("a retried client message id is acked with the same seq and delivered once") {
    Server server;
    Client alice(server, 0);
    Client bob(server, 1);
    alice.hello_guest();
    bob.hello_guest();
    alice.join("lobby");
    bob.join("lobby");
    alice.post("lobby", "hello", "m-1");
    alice.post("lobby", "hello", "m-1");
    const auto* ack = alice.find(v1::ServerMessage::kAck);
    REQUIRE(ack);
    CHECK(ack->ack().seq() == 1);
    CHECK(ack->ack().duplicate());
    CHECK(bob.events(v1::Event::kPosted).size() == 1);

    // Another author may use the same client id.
    bob.post("lobby", "mine", "m-1");
    CHECK(bob.find(v1::ServerMessage::kAck)->ack().seq() == 2);
}

TEST_CASE("a guest that reconnects with its pass keeps its identity and its retries") {
    Server server;
    auto first = std::make_unique<Client>(server, 0);
    first->hello_guest("Robin");
    const std::string pass = first->last().welcome().guest_token();
    first->join("lobby");
    first->post("lobby", "did this arrive?", "m-7");
    first->session.on_closed();
    server.router.drain();

    Client again(server, 1);
    v1::ClientMessage hello;
    hello.mutable_hello()->set_guest(true);
    hello.mutable_hello()->set_guest_token(pass);
    again.send(hello);
    CHECK(again.last().welcome().handle() == "Robin");
    again.join("lobby");
    again.post("lobby", "did this arrive?", "m-7");
    const auto* ack = again.find(v1::ServerMessage::kAck);
    REQUIRE(ack);
    CHECK(ack->ack().seq() == 1);
    CHECK(ack->ack().duplicate());
}

TEST_CASE("join with since_seq recovers exactly the missed events") {
    Server server;
    Client alice(server, 0);
    alice.hello_guest();
    alice.join("lobby");
    for (int i = 0; i < 6; ++i) alice.post("lobby", "p" + std::to_string(i));

    Client bob(server, 1);
    bob.hello_guest();
    bob.join("lobby", 3);
    REQUIRE(bob.last().has_joined());
    const v1::Joined& joined = bob.last().joined();
    CHECK(joined.recovered());
    CHECK(joined.last_seq() == 6);
    REQUIRE(joined.events_size() == 3);
    CHECK(joined.events(0).seq() == 4);
    CHECK(joined.events(2).seq() == 6);
}

TEST_CASE("recovery past retained history says it is incomplete and sends the recent tail") {
    config::Config config = test_config();
    config.history.max_events = 5;
    config.history.join_events = 3;
    Server server(config);
    Client alice(server, 0);
    alice.hello_guest();
    alice.join("lobby");
    for (int i = 0; i < 10; ++i) alice.post("lobby", "p" + std::to_string(i));
    Client bob(server, 1);
    bob.hello_guest();
    bob.join("lobby", 2);
    const v1::Joined& joined = bob.last().joined();
    CHECK_FALSE(joined.recovered());
    REQUIRE(joined.events_size() == 3);
    CHECK(joined.events(0).seq() == 8);
}

TEST_CASE("history pages through a room") {
    Server server;
    Client alice(server, 0);
    alice.hello_guest();
    alice.join("lobby");
    for (int i = 0; i < 10; ++i) alice.post("lobby", "p" + std::to_string(i));
    v1::ClientMessage request;
    request.mutable_history()->set_room_id("lobby");
    request.mutable_history()->set_before_seq(6);
    request.mutable_history()->set_limit(2);
    alice.send(request);
    REQUIRE(alice.last().has_history());
    const v1::HistoryPage& page = alice.last().history();
    REQUIRE(page.events_size() == 2);
    CHECK(page.events(0).seq() == 4);
    CHECK(page.events(1).seq() == 5);
    CHECK(page.has_more());
    CHECK(page.oldest_seq() == 1);

    request.mutable_history()->set_room_id("group");
    alice.send(request);
    CHECK(alice.last_error() == v1::NOT_JOINED);
}

TEST_CASE("leaving and disconnecting remove membership and tell the others") {
    Server server;
    Client alice(server, 0);
    auto bob = std::make_unique<Client>(server, 1);
    alice.hello_guest("Alice");
    bob->hello_guest("Bob");
    alice.join("lobby");
    bob->join("lobby");
    bob->join("group");

    v1::ClientMessage leave;
    leave.mutable_leave()->set_room_id("lobby");
    bob->send(leave);
    CHECK(bob->last().has_left());
    CHECK(alice.events(v1::Event::kMemberLeft).size() == 1);
    alice.post("lobby", "still here?");
    CHECK(bob->events(v1::Event::kPosted).empty());
    bob->post("lobby", "can I?");
    CHECK(bob->last_error() == v1::NOT_JOINED);

    alice.join("group");
    bob->session.on_closed();
    server.router.drain();
    CHECK(alice.events(v1::Event::kMemberLeft).size() == 2);
    CHECK(server.directory.member_count("group") == 1);
    CHECK(server.directory.member_count("lobby") == 1);
}

TEST_CASE("typing indicators reach the room") {
    Server server;
    Client alice(server, 0);
    Client bob(server, 1);
    alice.hello_guest("Alice");
    bob.hello_guest();
    alice.join("lobby");
    bob.join("lobby");
    v1::ClientMessage typing;
    typing.mutable_typing()->set_room_id("lobby");
    typing.mutable_typing()->set_active(true);
    alice.send(typing);
    const auto seen = bob.events(v1::Event::kTyping);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].typing().member().handle() == "Alice");
    CHECK(seen[0].typing().active());
    CHECK(seen[0].seq() == 0);
}

TEST_CASE("requests with bad content get their own error codes") {
    Server server;
    Client c(server, 0);
    c.session.on_frame("\x08\x96", false);
    CHECK(c.last_error() == v1::BAD_FRAME);
    c.session.on_frame("{oops", true);
    CHECK(c.last_error() == v1::BAD_FRAME);
    c.send(v1::ClientMessage{});
    CHECK(c.last_error() == v1::UNKNOWN_MESSAGE);
    c.hello_guest();
    c.join("nowhere");
    CHECK(c.last_error() == v1::UNKNOWN_ROOM);
    c.post("lobby", "not joined");
    CHECK(c.last_error() == v1::NOT_JOINED);
    c.join("lobby");
    c.join("lobby");
    CHECK(c.last_error() == v1::ALREADY_JOINED);
    c.post("lobby", "");
    CHECK(c.last_error() == v1::BAD_REQUEST);
    c.post("lobby", std::string(server.config.limits.max_post_chars + 1, 'x'));
    CHECK(c.last_error() == v1::POST_TOO_LONG);
    c.post("lobby", std::string(server.config.limits.max_post_chars, 'x'));
    // The author hears the Ack first, then the post as the room sees it.
    const auto& received = c.connection.received;
    REQUIRE(received.size() >= 2);
    CHECK(received[received.size() - 2].has_ack());
    CHECK(c.reply().has_ack());
    CHECK(c.last().event().has_posted());
}

TEST_CASE("a full room refuses the next member") {
    Server server;
    Client a(server, 0), b(server, 1), c(server, 0);
    for (Client* client : {&a, &b, &c}) {
        client->hello_guest();
        client->join("small");
    }
    CHECK(a.find(v1::ServerMessage::kJoined));
    CHECK(b.find(v1::ServerMessage::kJoined));
    CHECK(c.last_error() == v1::ROOM_FULL);
    c.post("small", "let me in");
    CHECK(c.last_error() == v1::NOT_JOINED);
}

TEST_CASE("posting faster than the rate limit is refused without losing accepted posts") {
    config::Config config = test_config();
    config.limits.posts_per_second = 1;
    config.limits.post_burst = 3;
    Server server(config);
    Client alice(server, 0);
    Client bob(server, 1);
    alice.hello_guest();
    bob.hello_guest();
    alice.join("lobby");
    bob.join("lobby");
    for (int i = 0; i < 5; ++i) alice.post("lobby", "p" + std::to_string(i));
    int acks = 0, limited = 0;
    for (const auto& m : alice.connection.received) {
        if (m.has_ack()) ++acks;
        if (m.has_error() && m.error().code() == v1::RATE_LIMITED) {
            ++limited;
            CHECK(m.error().retry_after_ms() > 0);
        }
    }
    CHECK(acks == 3);
    CHECK(limited == 2);
    CHECK(bob.events(v1::Event::kPosted).size() == 3);
}

TEST_CASE("a session that never says Hello is closed by the sweep") {
    Server server;
    Client quiet(server, 0);
    Client talker(server, 0);
    talker.hello_guest();
    server.engine.sweep(0, core::steady_now() + std::chrono::hours(1));
    REQUIRE(quiet.connection.closed_with);
    CHECK(*quiet.connection.closed_with == protocol::CloseCode::hello_timeout);
    CHECK_FALSE(talker.connection.closed_with);
}

TEST_CASE("pings are answered before and after Hello") {
    Server server;
    Client c(server, 1, Encoding::json);
    v1::ClientMessage ping;
    ping.mutable_ping()->set_client_time_ms(123);
    c.send(ping);
    REQUIRE(c.last().has_pong());
    CHECK(c.last().pong().client_time_ms() == 123);
}

// ---- moderation, without sockets ------------------------------------------------------------

namespace {

v1::ClientMessage moderate(const std::string& room, v1::ModerationAction action) {
    v1::ClientMessage m;
    m.mutable_moderate()->set_room_id(room);
    m.mutable_moderate()->set_action(action);
    return m;
}

void hello_as(Client& client, const std::string& subject, const std::string& role) {
    v1::ClientMessage hello;
    hello.mutable_hello()->set_token(test::make_hs256_token(
        R"({"sub":")" + subject + R"(","name":")" + subject + R"(","role":")" + role +
            R"(","exp":)" + std::to_string(core::wall_seconds() + 600) + "}",
        kSecret));
    client.send(hello);
    REQUIRE(client.last().has_welcome());
}

}  // namespace

TEST_CASE("moderation requests from participants are FORBIDDEN") {
    Server server;
    Client participant(server, 0);
    participant.hello_guest();
    for (auto action : {v1::HIDE_POST, v1::MUTE, v1::BAN, v1::LOCK_ROOM, v1::SET_SLOW_MODE}) {
        participant.send(moderate("lobby", action));
        CHECK(participant.last_error() == v1::FORBIDDEN);
    }
    v1::ClientMessage audit;
    audit.mutable_audit()->set_room_id("lobby");
    participant.send(audit);
    CHECK(participant.last_error() == v1::FORBIDDEN);
}

TEST_CASE("enough distinct flags hide a post, moderators still see it in history") {
    config::Config config = test_config();
    config.moderation.flag_threshold = 2;
    config.moderation.flag_trust_minutes = 0;  // these guests' flags count at once
    Server server(config);
    Client author(server, 0), first(server, 1), second(server, 0), mod(server, 1);
    for (Client* c : {&author, &first, &second}) {
        c->hello_guest();
        c->join("lobby");
    }
    hello_as(mod, "mod-1", "moderator");
    author.post("lobby", "something unkind");
    v1::ClientMessage flag;
    flag.mutable_flag()->set_room_id("lobby");
    flag.mutable_flag()->set_seq(1);
    flag.mutable_flag()->set_reason(v1::FLAG_HARASSMENT);
    first.send(flag);
    CHECK(first.last().has_ack());
    first.send(flag);
    CHECK(first.last_error() == v1::ALREADY_FLAGGED);
    CHECK(author.events(v1::Event::kPostHidden).empty());
    second.send(flag);
    REQUIRE(author.events(v1::Event::kPostHidden).size() == 1);
    const auto* item = mod.find(v1::ServerMessage::kModerationItem);
    REQUIRE(item);
    CHECK(item->moderation_item().post().author_subject() == author.session.subject());

    Client late(server, 1);
    late.hello_guest();
    late.join("lobby");
    int posts = 0;
    for (const auto& event : late.find(v1::ServerMessage::kJoined)->joined().events()) {
        posts += event.has_posted() ? 1 : 0;
        CHECK(event.posted().author_subject().empty());
    }
    CHECK(posts == 0);
    mod.join("lobby");
    posts = 0;
    for (const auto& event : mod.find(v1::ServerMessage::kJoined)->joined().events()) {
        posts += event.has_posted() ? 1 : 0;
    }
    CHECK(posts == 1);
}

TEST_CASE("a muted member is refused with MUTED until unmuted, only they hear the reason") {
    Server server;
    Client member(server, 0), bystander(server, 1), mod(server, 1);
    for (Client* c : {&member, &bystander}) {
        c->hello_guest();
        c->join("lobby");
    }
    hello_as(mod, "mod-2", "moderator");
    v1::ClientMessage mute = moderate("lobby", v1::MUTE);
    mute.mutable_moderate()->set_member_id(member.session.member().member_id());
    mute.mutable_moderate()->set_reason("cool down");
    mute.mutable_moderate()->set_duration_seconds(60);
    mod.send(mute);
    REQUIRE(mod.last().has_ack());
    member.post("lobby", "let me speak");
    CHECK(member.last_error() == v1::MUTED);
    CHECK(member.find(v1::ServerMessage::kError)->error().retry_after_ms() > 50'000);
    const auto* alert = member.find(v1::ServerMessage::kAlert);
    REQUIRE(alert);
    CHECK(alert->alert().kind() == v1::Alert::MUTED);
    CHECK(alert->alert().message() == "cool down");
    const auto seen = bystander.events(v1::Event::kMemberMuted);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].member_muted().reason().empty());
    CHECK(seen[0].member_muted().subject().empty());
    CHECK_FALSE(bystander.find(v1::ServerMessage::kAlert));

    // Someone joining now learns of the mute and the room's state from Joined itself.
    v1::ClientMessage slow = moderate("lobby", v1::SET_SLOW_MODE);
    slow.mutable_moderate()->set_slow_mode_seconds(30);
    mod.send(slow);
    v1::ClientMessage leave;
    leave.mutable_leave()->set_room_id("lobby");
    member.send(leave);
    member.join("lobby");
    const v1::Joined& joined = member.find(v1::ServerMessage::kJoined)->joined();
    CHECK(joined.muted());
    CHECK(joined.muted_until_ms() > core::wall_ms());
    CHECK(joined.slow_mode_seconds() == 30);
    CHECK_FALSE(joined.locked());

    v1::ClientMessage unmute = moderate("lobby", v1::UNMUTE);
    unmute.mutable_moderate()->set_member_id(member.session.member().member_id());
    mod.send(unmute);
    member.post("lobby", "thank you");
    CHECK(member.reply().has_ack());
}

TEST_CASE("crisis language: resources reach the author before the Ack, moderators are alerted") {
    Server server;
    moderation::CrisisDetector detector(
        {{"en",
          {"kill myself"},
          {{"Lifeline", "988", "Text 988", "https://988lifeline.org", "24/7"}}}});
    server.context.crisis = &detector;
    Client author(server, 0), mod(server, 1);
    author.hello_guest();
    author.join("lobby");
    hello_as(mod, "mod-3", "moderator");
    author.post("lobby", "some days I want to k1ll myself");
    const auto& received = author.connection.received;
    std::size_t alert_at = received.size(), ack_at = received.size();
    for (std::size_t i = 0; i < received.size(); ++i) {
        if (received[i].has_alert() && alert_at == received.size()) alert_at = i;
        if (received[i].has_ack()) ack_at = i;
    }
    REQUIRE(alert_at < received.size());
    CHECK(alert_at < ack_at);
    CHECK(received[alert_at].alert().resources(0).phone() == "988");
    const auto* item = mod.find(v1::ServerMessage::kModerationItem);
    REQUIRE(item);
    CHECK(item->moderation_item().kind() == v1::ModerationItem::CRISIS);
    CHECK(item->moderation_item().urgent());
}

TEST_CASE("events reaching a room in one loop turn go to each member as one batch, in order") {
    Server server;
    Client author(server, 0);
    Client binary_reader(server, 1);
    Client json_reader(server, 1, Encoding::json);
    for (Client* client : {&author, &binary_reader, &json_reader}) {
        client->hello_guest();
        client->join("lobby");
    }
    // Three posts read from the socket at once, and handled by the owner before the readers'
    // shard runs: they reach it in one turn.
    for (int i = 0; i < 3; ++i)
        author.read(Client::post_message("lobby", "post " + std::to_string(i)));
    server.router.drain_only(0);
    server.router.drain();

    for (Client* reader : {&binary_reader, &json_reader}) {
        CAPTURE(reader->connection_encoding() == Encoding::json);
        REQUIRE(reader->connection.batch_sizes.size() == 1);
        CHECK(reader->connection.batch_sizes[0] == 3);
        const auto posts = reader->events(v1::Event::kPosted);
        REQUIRE(posts.size() == 3);
        for (std::size_t i = 0; i < posts.size(); ++i) {
            CHECK(posts[i].posted().text() == "post " + std::to_string(i));
            if (i > 0) CHECK(posts[i].seq() == posts[i - 1].seq() + 1);
        }
    }

    // A single event in a turn is sent as a plain frame; a member who joins later gets the
    // earlier posts in Joined only, and live events from then on.
    author.post("lobby", "one more");
    CHECK(binary_reader.connection.batch_sizes.size() == 1);
    CHECK(binary_reader.events(v1::Event::kPosted).size() == 4);
    Client late(server, 1);
    late.hello_guest();
    late.join("lobby");
    CHECK(late.events(v1::Event::kPosted).empty());
    author.post("lobby", "welcome");
    CHECK(late.events(v1::Event::kPosted).size() == 1);
}

TEST_CASE("a member who joins while events wait for the end of the turn gets each event once") {
    Server server;
    // The clients live on the shard that does not own the room, so the post's delivery and
    // the join's answer reach that shard as separate tasks, in that order.
    const unsigned home = 1 - server.directory.owner_shard("lobby");
    Client author(server, home);
    Client joiner(server, home);
    author.hello_guest();
    author.join("lobby");
    joiner.hello_guest();

    // The post and the join are read in one turn: the owner stores the post, then admits the
    // joiner with the post among Joined's recent events.
    author.read(Client::post_message("lobby", "racing the join"));
    joiner.read(Client::join_message("lobby"));
    server.router.drain();

    const v1::ServerMessage* joined = joiner.find(v1::ServerMessage::kJoined);
    REQUIRE(joined != nullptr);
    int in_joined = 0;
    for (const v1::Event& event : joined->joined().events()) {
        if (event.has_posted() && event.posted().text() == "racing the join") ++in_joined;
    }
    CHECK(in_joined == 1);
    CHECK(joiner.events(v1::Event::kPosted).empty());  // not a second time, live
    CHECK(author.events(v1::Event::kPosted).size() == 1);

    // From then on the joiner hears the room live.
    author.post("lobby", "after the join");
    REQUIRE(joiner.events(v1::Event::kPosted).size() == 1);
    CHECK(joiner.events(v1::Event::kPosted)[0].posted().text() == "after the join");
}

TEST_CASE("joins that come together reach members in one batch, and always before later posts") {
    Server server;
    REQUIRE(server.config.limits.presence_delay_ms > 0);
    Client host(server, 1);
    host.hello_guest();
    host.join("group");
    const std::size_t batches_before = host.connection.batch_sizes.size();

    // Four people join in the same turn: the host hears of them together, in one write.
    std::vector<std::unique_ptr<Client>> arrivals;
    for (unsigned i = 0; i < 4; ++i) {
        arrivals.push_back(std::make_unique<Client>(server, i % 2));
        arrivals.back()->hello_guest();
    }
    for (auto& arrival : arrivals) arrival->read(Client::join_message("group"));
    server.router.drain();
    CHECK(host.events(v1::Event::kMemberJoined).size() == 4);
    REQUIRE(host.connection.batch_sizes.size() == batches_before + 1);
    CHECK(host.connection.batch_sizes.back() == 4);

    // A join and a post in one turn: the waiting join goes out with the post, before it.
    Client late(server, 0);
    late.hello_guest();
    late.read(Client::join_message("group"));
    host.read(Client::post_message("group", "welcome, all"));
    server.router.drain();

    const auto& received = host.connection.received;
    std::ptrdiff_t joined_at = -1;
    std::ptrdiff_t posted_at = -1;
    for (std::size_t i = 0; i < received.size(); ++i) {
        if (!received[i].has_event()) continue;
        const v1::Event& event = received[i].event();
        if (event.has_member_joined() &&
            event.member_joined().member().member_id() == late.session.member().member_id()) {
            joined_at = static_cast<std::ptrdiff_t>(i);
        }
        if (event.has_posted() && event.posted().text() == "welcome, all") {
            posted_at = static_cast<std::ptrdiff_t>(i);
        }
    }
    REQUIRE(joined_at >= 0);
    REQUIRE(posted_at >= 0);
    CHECK(joined_at < posted_at);
}

TEST_CASE("presence waiting when someone joins goes to those already there, not to the newcomer") {
    Server server;
    const unsigned owner = server.directory.owner_shard("group");
    const unsigned home = 1 - owner;
    Client host(server, home);
    host.hello_guest();
    host.join("group");
    Client first(server, owner);
    Client newcomer(server, home);
    Client second(server, owner);
    for (Client* client : {&first, &newcomer, &second}) client->hello_guest();

    // Three joins handled in one turn; the presence of the first waits while the newcomer
    // is admitted here, the presence of the second comes after.
    for (Client* client : {&first, &newcomer, &second}) client->read(Client::join_message("group"));
    server.router.drain();

    auto joined_ids = [](const Client& client) {
        std::vector<std::string> ids;
        for (const v1::Event& event : client.events(v1::Event::kMemberJoined)) {
            ids.push_back(event.member_joined().member().member_id());
        }
        return ids;
    };
    const std::string first_id = first.session.member().member_id();
    const std::string newcomer_id = newcomer.session.member().member_id();
    const std::string second_id = second.session.member().member_id();
    CHECK(joined_ids(host) == std::vector<std::string>{first_id, newcomer_id, second_id});
    // The newcomer's Joined lists the first arrival; live, it hears only of the second.
    const v1::ServerMessage* joined = newcomer.find(v1::ServerMessage::kJoined);
    REQUIRE(joined != nullptr);
    bool lists_first = false;
    for (const v1::Member& member : joined->joined().members()) {
        if (member.member_id() == first_id) lists_first = true;
    }
    CHECK(lists_first);
    CHECK(joined_ids(newcomer) == std::vector<std::string>{second_id});
}

TEST_CASE("with presence_delay_ms = 0 joins go out at the end of the turn, with no timer") {
    for (const std::uint32_t delay : {0u, 200u}) {
        CAPTURE(delay);
        config::Config config = test_config();
        config.limits.presence_delay_ms = delay;
        Server server(config);
        Client host(server, 1);
        host.hello_guest();
        host.join("group");
        Client guest(server, 0);
        guest.hello_guest();
        guest.join("group");
        CHECK(host.events(v1::Event::kMemberJoined).size() == 1);
        CHECK((server.router.delayed_posts == 0) == (delay == 0));
    }
}
