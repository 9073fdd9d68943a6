// Several haven-server instances on one real Redis: one room across instances, draining and
// crashing without loss, Redis outages, presence cleanup, and moderation enforced everywhere.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"
#include "support/redis_process.hpp"

namespace haven::test {
namespace {

struct Cluster {
    RedisProcess redis;
    std::string prefix = unique_id("cluster") + ":";
    std::unique_ptr<ServerProcess> a;
    std::unique_ptr<ServerProcess> b;

    explicit Cluster(const std::string& limits = kFastPosts) {
        REQUIRE(redis_available());
        REQUIRE(redis.start());
        for (auto* instance : {&a, &b}) {
            ServerOptions options;
            options.toml = cluster_toml(redis, prefix, limits);
            *instance = std::make_unique<ServerProcess>(options);
            require_started(**instance);
        }
    }
};

// A person in one room who may move between instances, remembering every sequenced post
// seen (to check exactly-once, in-order delivery) and what it sent without an Ack yet.
class Roamer {
public:
    Roamer(std::string handle, std::string room)
        : handle_(std::move(handle)), room_(std::move(room)) {}

    void connect_to(const ServerProcess& server) {
        client_ = std::make_unique<Client>(server, Encoding::binary);
        const v1::Welcome welcome = client_->hello_guest(handle_, guest_token_);
        if (!welcome.guest_token().empty()) guest_token_ = welcome.guest_token();
        const v1::Joined joined = client_->join(room_, last_seq_);
        recovered_ = joined.recovered();
        for (const auto& event : joined.events()) record(event);
        // Whatever was sent and not acknowledged goes again, under its original id.
        for (const auto& [id, text] : unacked_) client_->send(msg_post(room_, text, id));
    }

    // Posts and waits for the Ack; false when no Ack came (connection ending).
    bool post(const std::string& text) {
        const std::string id = unique_id(handle_);
        unacked_[id] = text;
        const std::uint64_t request = client_->send(msg_post(room_, text, id));
        auto reply = client_->next(reply_to(request), 2s);
        if (!reply || !reply->has_ack()) return false;
        unacked_.erase(id);
        acked_.push_back(reply->ack().seq());
        return true;
    }

    // Reads whatever has arrived (acks of resent posts included).
    void absorb(Millis window = 300ms) {
        for (const auto& message : client_->collect(window)) {
            if (message.has_event()) record(message.event());
            if (message.has_ack()) {
                unacked_.erase(message.ack().client_msg_id());
                acked_.push_back(message.ack().seq());
            }
            if (message.has_reconnect()) reconnect_seen_ = true;
        }
    }

    bool wait_for_reconnect(Millis timeout) {
        auto message =
            client_->next([](const v1::ServerMessage& m) { return m.has_reconnect(); }, timeout);
        if (message) {
            reconnect_after_ms_ = message->reconnect().after_ms();
            reconnect_seen_ = true;
        }
        return reconnect_seen_;
    }

    Client& client() { return *client_; }
    const std::vector<std::uint64_t>& seen() const { return seen_; }
    const std::vector<std::uint64_t>& acked() const { return acked_; }
    std::size_t unacked() const { return unacked_.size(); }
    std::uint64_t last_seq() const { return last_seq_; }
    bool recovered() const { return recovered_; }
    std::uint32_t reconnect_after_ms() const { return reconnect_after_ms_; }

private:
    void record(const v1::Event& event) {
        if (!event.has_posted()) return;
        seen_.push_back(event.seq());
        last_seq_ = std::max(last_seq_, event.seq());
    }

    std::string handle_;
    std::string room_;
    std::unique_ptr<Client> client_;
    std::string guest_token_;
    std::uint64_t last_seq_ = 0;
    bool recovered_ = true;
    bool reconnect_seen_ = false;
    std::uint32_t reconnect_after_ms_ = 0;
    std::vector<std::uint64_t> seen_;
    std::vector<std::uint64_t> acked_;
    std::map<std::string, std::string> unacked_;
};

std::vector<std::uint64_t> one_to(std::uint64_t n) {
    std::vector<std::uint64_t> out(n);
    for (std::uint64_t i = 0; i < n; ++i) out[i] = i + 1;
    return out;
}

}  // namespace

TEST_CASE("cluster: one room across two instances: order, presence and retries") {
    Cluster cluster;
    Client a(*cluster.a, Encoding::binary);
    a.hello_guest("On A");
    a.join("lobby");
    Client b(*cluster.b, Encoding::json);
    const v1::Welcome b_welcome = b.hello_guest("On B");
    const v1::Joined joined = b.join("lobby");
    std::set<std::string> members;
    for (const auto& member : joined.members()) members.insert(member.member_id());
    CHECK(members == std::set<std::string>{a.member_id(), b.member_id()});
    a.expect(member_joined(b.member_id()), "B's arrival, seen on A");

    for (int i = 1; i <= 10; ++i) {
        const v1::Ack ack = (i % 2 ? a : b).post("lobby", "message " + std::to_string(i));
        CHECK(ack.seq() == static_cast<std::uint64_t>(i));
    }
    for (Client* client : {&a, &b}) {
        std::vector<std::uint64_t> seqs;
        for (int i = 0; i < 10; ++i) {
            seqs.push_back(client->expect(posted_in("lobby"), "a post").event().seq());
        }
        CHECK(seqs == one_to(10));
    }

    // A retry sent to the other instance after a reconnect is recognised.
    const v1::Ack first = b.post("lobby", "only once", "retry-1");
    b.ws().drop();
    Client again(*cluster.a, Encoding::binary);
    again.hello_guest("On B", b_welcome.guest_token());
    again.join("lobby", first.seq());
    const v1::Ack retry = again.post("lobby", "only once", "retry-1");
    CHECK(retry.seq() == first.seq());
    CHECK(retry.duplicate());
    std::size_t copies = 0;
    for (const auto& message : a.collect(500ms)) {
        copies += message.has_event() && message.event().has_posted() &&
                  message.event().posted().client_msg_id() == "retry-1";
    }
    CHECK(copies == 1);
}

TEST_CASE("cluster: draining an instance moves its clients without losing a post") {
    Cluster cluster;
    Roamer publisher("Publisher", "lobby");
    Roamer on_a("Reader A", "lobby");
    Roamer on_b("Reader B", "lobby");
    publisher.connect_to(*cluster.a);
    on_a.connect_to(*cluster.a);
    on_b.connect_to(*cluster.b);

    for (int i = 0; i < 10; ++i) REQUIRE(publisher.post("before " + std::to_string(i)));
    REQUIRE(cluster.a->signal(SIGTERM));
    CHECK(eventually([&] { return http_get(cluster.a->port(), "/readyz").status != 200; }, 2s));
    // Still served while draining; everyone there is asked to move.
    for (int i = 0; i < 5; ++i) publisher.post("during " + std::to_string(i));
    REQUIRE(publisher.wait_for_reconnect(2s));
    REQUIRE(on_a.wait_for_reconnect(2s));
    CHECK(publisher.reconnect_after_ms() <= 750u);

    publisher.connect_to(*cluster.b);
    on_a.connect_to(*cluster.b);
    for (int i = 0; i < 10; ++i) REQUIRE(publisher.post("after " + std::to_string(i)));
    CHECK(cluster.a->wait_exit(5s) == std::optional<int>(0));

    publisher.absorb();
    CHECK(publisher.unacked() == 0);
    const std::uint64_t total = publisher.acked().size();
    CHECK(total == 25);
    for (Roamer* reader : {&on_a, &on_b}) {
        reader->absorb(500ms);
        CHECK(reader->recovered());
        CHECK(reader->seen() == one_to(total));
    }
}

TEST_CASE("cluster: a killed instance's members are removed and its clients recover") {
    Cluster cluster;
    Roamer moving("Moving", "lobby");
    moving.connect_to(*cluster.a);
    Client watcher(*cluster.b, Encoding::binary);
    watcher.hello_guest("Watcher");
    watcher.join("lobby");
    for (int i = 0; i < 5; ++i) watcher.post("lobby", "early " + std::to_string(i));
    moving.absorb();
    const std::string moving_id = moving.client().member_id();

    // A post in flight when the instance dies: resent after the move, stored once.
    moving.client().send(msg_post("lobby", "in flight", "in-flight-1"));
    std::this_thread::sleep_for(50ms);
    REQUIRE(cluster.a->stop(SIGKILL, 5s).has_value());
    const auto killed = std::chrono::steady_clock::now();
    watcher.expect(member_left(moving_id), "the killed instance's member leaving", 10s);
    CHECK(std::chrono::steady_clock::now() - killed < 10s);

    for (int i = 0; i < 5; ++i) watcher.post("lobby", "later " + std::to_string(i));
    moving.connect_to(*cluster.b);
    moving.absorb(500ms);
    CHECK(moving.recovered());
    std::vector<std::uint64_t> seen = moving.seen();
    std::set<std::uint64_t> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());
    CHECK(std::is_sorted(seen.begin(), seen.end()));
    CHECK(seen.back() == watcher.post("lobby", "last").seq() - 1);
    CHECK(seen.size() == seen.back());  // 1..n, no gaps
}

TEST_CASE("cluster: while Redis is down posts fail retryably and service resumes by itself") {
    Cluster cluster;
    Client client(*cluster.a, Encoding::binary);
    client.hello_guest();
    client.join("lobby");
    CHECK(client.post("lobby", "before").seq() == 1);

    cluster.redis.stop();
    CHECK(eventually([&] { return http_get(cluster.a->port(), "/readyz").status == 503; }, 5s));
    const std::uint64_t request = client.send(msg_post("lobby", "during", "during-1"));
    const v1::ServerMessage refused = client.reply(request);
    REQUIRE(refused.has_error());
    CHECK(refused.error().code() == v1::UNAVAILABLE);
    CHECK(refused.error().retry_after_ms() > 0);
    client.ping();  // the connection stays open

    REQUIRE(cluster.redis.start());
    CHECK(eventually([&] { return http_get(cluster.a->port(), "/readyz").status == 200; }, 10s));
    CHECK(client.post("lobby", "during", "during-1").seq() == 2);
    Client later(*cluster.b, Encoding::json);
    later.hello_guest();
    const v1::Joined joined = later.join("lobby");
    CHECK(joined.last_seq() == 2);
    REQUIRE(joined.events_size() >= 2);
    const auto reconnects = metric(*cluster.a, "haven_redis_reconnects_total");
    CHECK(reconnects.value_or(0) >= 1);
}

TEST_CASE("cluster: a ban on one instance closes the member's session on the other at once") {
    Cluster cluster;
    Client moderator(*cluster.a, Encoding::binary);
    moderator.hello_token(make_token("mod-1", "Moderator", "moderator", 600));
    Client member(*cluster.b, Encoding::binary);
    const v1::Welcome welcome = member.hello_guest("Troubled");
    member.join("lobby");

    v1::ClientMessage ban;
    ban.mutable_moderate()->set_room_id("lobby");
    ban.mutable_moderate()->set_action(v1::BAN);
    ban.mutable_moderate()->set_member_id(member.member_id());
    ban.mutable_moderate()->set_reason("repeated harassment");
    const v1::ServerMessage acked = moderator.reply(moderator.send(ban));
    INFO(describe(acked));
    REQUIRE(acked.has_ack());
    const auto started = std::chrono::steady_clock::now();
    CHECK(member.wait_close(3s) == std::optional<std::uint16_t>(4003));
    CHECK(std::chrono::steady_clock::now() - started < 2s);

    for (ServerProcess* instance : {cluster.b.get(), cluster.a.get()}) {
        Client back(*instance, Encoding::binary);
        back.hello_guest("Troubled", welcome.guest_token());
        CHECK(back.error_reply(back.send(msg_join("lobby"))) == v1::BANNED);
    }
}

TEST_CASE("cluster: flags, hides, mutes and the audit log work across instances") {
    Cluster cluster;
    Client moderator(*cluster.a, Encoding::json);
    moderator.hello_token(make_token("mod-9", "Moderator", "moderator", 600));
    Client author(*cluster.b, Encoding::binary);
    author.hello_guest("Author");
    author.join("lobby");
    Client reader(*cluster.b, Encoding::json);
    reader.hello_guest("Reader");
    reader.join("lobby");

    const std::uint64_t seq = author.post("lobby", "something hurtful").seq();
    v1::ClientMessage flag;
    flag.mutable_flag()->set_room_id("lobby");
    flag.mutable_flag()->set_seq(seq);
    flag.mutable_flag()->set_reason(v1::FLAG_HARASSMENT);
    REQUIRE(reader.reply(reader.send(flag)).has_ack());
    // The moderator is on the other instance and not even in the room.
    const v1::ServerMessage item = moderator.expect(
        [](const v1::ServerMessage& m) {
            return m.has_moderation_item() &&
                   m.moderation_item().kind() == v1::ModerationItem::FLAG;
        },
        "the flag, on the other instance");
    CHECK(item.moderation_item().seq() == seq);
    CHECK_FALSE(item.moderation_item().post().author_subject().empty());

    v1::ClientMessage queue;
    queue.mutable_moderation_queue();
    const v1::ServerMessage listed = moderator.reply(moderator.send(queue));
    REQUIRE(listed.has_moderation_queue());
    CHECK(listed.moderation_queue().items_size() == 1);

    v1::ClientMessage hide;
    hide.mutable_moderate()->set_room_id("lobby");
    hide.mutable_moderate()->set_action(v1::HIDE_POST);
    hide.mutable_moderate()->set_seq(seq);
    REQUIRE(moderator.reply(moderator.send(hide)).has_ack());
    for (Client* member : {&author, &reader}) {
        const v1::ServerMessage hidden = member->expect(
            [](const v1::ServerMessage& m) { return m.has_event() && m.event().has_post_hidden(); },
            "the post hidden on the other instance");
        CHECK(hidden.event().post_hidden().seq() == seq);
    }
    const v1::ServerMessage after = moderator.reply(moderator.send(queue));
    CHECK(after.moderation_queue().items_size() == 0);

    v1::ClientMessage mute;
    mute.mutable_moderate()->set_room_id("lobby");
    mute.mutable_moderate()->set_action(v1::MUTE);
    mute.mutable_moderate()->set_subject(item.moderation_item().post().author_subject());
    mute.mutable_moderate()->set_reason("take a breath");
    REQUIRE(moderator.reply(moderator.send(mute)).has_ack());
    CHECK(eventually([&] {
        const v1::ServerMessage reply = author.reply(author.send(msg_post("lobby", "again")));
        return reply.has_error() && reply.error().code() == v1::MUTED;
    }));

    v1::ClientMessage audit;
    audit.mutable_audit()->set_room_id("lobby");
    const v1::ServerMessage page = moderator.reply(moderator.send(audit));
    REQUIRE(page.has_audit());
    std::vector<std::string> actions;
    for (const auto& entry : page.audit().entries()) actions.push_back(entry.action());
    CHECK(actions == std::vector<std::string>{"mute", "hide_post", "flag"});
}

TEST_CASE("cluster: one person's post budget is shared by their sessions on every instance") {
    Cluster cluster("posts_per_second = 0.5\npost_burst = 4\n");
    const std::string token = make_token("writer-1", "Writer", "participant", 600);
    Client on_a(*cluster.a, Encoding::binary);
    on_a.hello_token(token);
    on_a.join("lobby");
    Client on_b(*cluster.b, Encoding::json);
    on_b.hello_token(token);
    on_b.join("lobby");
    // Each session alone stays within its own burst; together they spend the person's.
    int accepted = 0;
    std::optional<v1::Error> refused;
    for (int i = 0; i < 6 && !refused; ++i) {
        Client& client = i % 2 == 0 ? on_a : on_b;
        const v1::ServerMessage reply = client.reply(client.send(msg_post("lobby", "note")));
        if (reply.has_ack()) ++accepted;
        if (reply.has_error()) refused = reply.error();
    }
    CHECK(accepted == 4);
    REQUIRE(refused.has_value());
    CHECK(refused->code() == v1::RATE_LIMITED);
    CHECK(refused->retry_after_ms() > 0);
    // Someone else is not affected.
    Client other(*cluster.b, Encoding::binary);
    other.hello_guest();
    other.join("lobby");
    CHECK(other.post("lobby", "hello").seq() == 5);
}

}  // namespace haven::test
