// Where a join's snapshot meets the live stream, under storms: many members re-joining at once
// on several instances while posts flow from the others must get each event of the room exactly
// once and in seq order from their Joined on, and every member's list must converge on the
// member set Redis stores, through join storms, a drain and a killed instance.
//
// The clients run in threads of their own (one per person), so the joins really arrive at the
// same time; assertions stay in the test's thread, which checks what the threads recorded.
// Over 400 lines: the storms share one set of checks (exactly once, in order, converged lists), kept beside them.
#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <barrier>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"
#include "support/redis_process.hpp"

namespace haven::test {
namespace {

using Clock = std::chrono::steady_clock;
const std::string kRoom = "lobby";

struct Instances {
    RedisProcess redis;
    std::string prefix = unique_id("storm") + ":";
    std::vector<std::unique_ptr<ServerProcess>> servers;

    // `count` instances on one Redis, or one instance of the embedded broker (count 0).
    explicit Instances(std::size_t count, const std::string& limits = kFastPosts) {
        if (count == 0) {
            ServerOptions options;
            options.toml = "[server]\nshards = 2\n[limits]\n" + limits;
            servers.push_back(std::make_unique<ServerProcess>(options));
            require_started(*servers.back());
            return;
        }
        REQUIRE(redis_available());
        REQUIRE(redis.start());
        for (std::size_t i = 0; i < count; ++i) {
            ServerOptions options;
            options.toml = cluster_toml(redis, prefix, limits);
            servers.push_back(std::make_unique<ServerProcess>(options));
            require_started(*servers.back());
        }
    }

    // The member ids Redis holds for the room.
    std::set<std::string> stored_members() const {
        const std::string reply = redis.command("HKEYS " + prefix + "room:{" + kRoom + "}:members");
        std::set<std::string> out;
        std::istringstream lines(reply);
        std::string line;
        while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty() || line[0] == '*' || line[0] == '$') continue;
            out.insert(line);
        }
        return out;
    }
};

// Hello as a guest (keeping the identity) and join; false with `why` set when that failed.
// `member_id` (when given) receives the session's member id.
bool hello_and_join(Client& client, std::string& guest_token, std::uint64_t since_seq,
                    v1::Joined& joined, std::string& why, std::string* member_id = nullptr) {
    v1::ClientMessage hello = msg_hello_guest("", guest_token);
    hello.mutable_hello()->set_omit_rooms(true);
    auto welcome = client.next(reply_to(client.send(hello)), 10s);
    if (!welcome || !welcome->has_welcome()) {
        why = "no Welcome: " + (welcome ? describe(*welcome) : client.ws().last_error());
        return false;
    }
    if (!welcome->welcome().guest_token().empty()) guest_token = welcome->welcome().guest_token();
    if (member_id != nullptr) *member_id = welcome->welcome().session_id();
    auto reply = client.next(reply_to(client.send(msg_join(kRoom, since_seq))), 10s);
    if (!reply || !reply->has_joined()) {
        why = "no Joined: " + (reply ? describe(*reply) : client.ws().last_error());
        return false;
    }
    joined = reply->joined();
    return true;
}

// ---- exactly once, in order, from Joined on ------------------------------------------------

// One person who leaves and comes back again and again, checking every sequenced event it is
// given against the seq it expects next.
class Rejoiner {
public:
    explicit Rejoiner(int index) : index_(index) {}

    // One visit: connect to `server`, join since the last seq seen, read live for `stay`.
    void visit(const ServerProcess& server, Millis stay) {
        Client client;
        if (!client.connect(server, Encoding::binary)) return note("could not connect");
        v1::Joined joined;
        std::string why;
        if (!hello_and_join(client, guest_token_, last_seq_, joined, why)) {
            // A refusal during a storm is allowed (the client would retry); a wrong delivery
            // is not.
            ++refused_;
            return;
        }
        ++visits_;
        std::uint64_t expected = last_seq_ + 1;
        for (const v1::Event& event : joined.events()) {
            if (last_seq_ > 0 && joined.recovered()) check(event.seq(), expected, "Joined");
            expected = event.seq() + 1;
        }
        if (last_seq_ > 0 && joined.recovered() && joined.last_seq() + 1 != expected &&
            !joined.events().empty()) {
            note("Joined ends at " + std::to_string(expected - 1) + " but says last_seq " +
                 std::to_string(joined.last_seq()));
        }
        last_seq_ = std::max(last_seq_, joined.last_seq());
        expected = joined.last_seq() + 1;
        const auto until = Clock::now() + stay;
        while (Clock::now() < until) {
            auto message = client.ws().receive(std::chrono::duration_cast<Millis>(
                std::max(Millis(1), std::chrono::duration_cast<Millis>(until - Clock::now()))));
            if (!message) {
                if (client.ws().closed()) return note("closed: " + client.ws().last_error());
                continue;
            }
            if (!message->has_event() || message->event().seq() == 0) continue;
            check(message->event().seq(), expected, "live");
            expected = message->event().seq() + 1;
            last_seq_ = std::max(last_seq_, message->event().seq());
            ++live_events_;
        }
    }

    const std::vector<std::string>& violations() const { return violations_; }
    std::size_t visits() const { return visits_; }
    std::size_t refused() const { return refused_; }
    std::size_t live_events() const { return live_events_; }

private:
    void check(std::uint64_t seq, std::uint64_t expected, const char* where) {
        if (seq == expected) return;
        note(std::string(where) + ": got seq " + std::to_string(seq) + ", expected " +
             std::to_string(expected));
    }
    void note(std::string what) {
        if (violations_.size() < 5) {
            violations_.push_back("reader " + std::to_string(index_) + ": " + std::move(what));
        }
        ++violation_count_;
    }

    int index_;
    std::string guest_token_;
    std::uint64_t last_seq_ = 0;
    std::size_t visits_ = 0;
    std::size_t refused_ = 0;
    std::size_t live_events_ = 0;
    std::size_t violation_count_ = 0;
    std::vector<std::string> violations_;
};

// Posts as fast as acknowledgements come back, until told to stop; returns posts acked.
std::size_t post_until(const ServerProcess& server, const std::atomic<bool>& stop) {
    Client client;
    if (!client.connect(server, Encoding::binary)) return 0;
    std::string token;
    v1::Joined joined;
    std::string why;
    if (!hello_and_join(client, token, 0, joined, why)) return 0;
    std::size_t acked = 0;
    while (!stop.load()) {
        auto reply = client.next(reply_to(client.send(msg_post(kRoom, "tick"))), 5s);
        if (!reply) break;
        if (reply->has_ack()) ++acked;
        client.inbox().clear();  // its own room's events: not what this test reads
    }
    return acked;
}

// Readers re-join in storms (all at once, each round on another instance) while one poster
// per instance keeps posting. Returns the violations found.
void run_rejoin_storms(Instances& cluster, int readers, int rounds) {
    const std::size_t count = cluster.servers.size();
    std::atomic<bool> stop{false};
    std::vector<std::size_t> acked(count, 0);
    std::vector<std::thread> posters;
    for (std::size_t i = 0; i < count; ++i) {
        posters.emplace_back([&, i] { acked[i] = post_until(*cluster.servers[i], stop); });
    }
    std::vector<Rejoiner> people;
    for (int i = 0; i < readers; ++i) people.emplace_back(i);
    std::barrier storm(readers);
    std::vector<std::thread> threads;
    for (int i = 0; i < readers; ++i) {
        threads.emplace_back([&, i] {
            std::mt19937 rng(static_cast<unsigned>(i));
            std::uniform_int_distribution<int> stay(100, 400);
            for (int round = 0; round < rounds; ++round) {
                storm.arrive_and_wait();  // everyone reconnects at the same moment
                const auto& server = *cluster.servers[static_cast<std::size_t>(i + round) % count];
                people[static_cast<std::size_t>(i)].visit(server, Millis(stay(rng)));
            }
        });
    }
    for (auto& thread : threads) thread.join();
    stop = true;
    for (auto& thread : posters) thread.join();

    std::size_t visits = 0, refused = 0, live = 0, total_acked = 0;
    std::vector<std::string> violations;
    for (const Rejoiner& person : people) {
        visits += person.visits();
        refused += person.refused();
        live += person.live_events();
        for (const auto& v : person.violations()) violations.push_back(v);
    }
    for (std::size_t n : acked) total_acked += n;
    CAPTURE(visits);
    CAPTURE(refused);
    CAPTURE(live);
    CAPTURE(total_acked);
    for (const auto& v : violations) INFO(v);
    std::string first = violations.empty() ? "" : violations.front();
    CAPTURE(first);
    CHECK(violations.empty());
    // The storms really happened, with posts flowing.
    CHECK(visits >= static_cast<std::size_t>(readers * rounds * 9 / 10));
    CHECK(total_acked > 200);
    CHECK(live > 1000);
}

TEST_CASE(
    "cluster: members re-joining in storms on three instances get each event once, in "
    "seq order, from Joined on") {
    Instances cluster(3);
    run_rejoin_storms(cluster, 24, 8);
}

TEST_CASE(
    "embedded broker: members re-joining in storms get each event once, in seq order, "
    "from Joined on") {
    Instances single(0);
    run_rejoin_storms(single, 24, 8);
}

// ---- presence converges on the stored member set ---------------------------------------------

// A person watching the room's member list: Joined's members, then member_joined / member_left.
class Watcher {
public:
    bool connect(const ServerProcess& server, std::string& why) {
        client_ = std::make_unique<Client>();
        if (!client_->connect(server, Encoding::binary)) {
            why = "could not connect";
            return false;
        }
        v1::Joined joined;
        if (!hello_and_join(*client_, guest_token_, 0, joined, why, &member_id_)) return false;
        view_.clear();
        for (const v1::Member& member : joined.members()) view_.insert(member.member_id());
        return true;
    }

    // Applies what has arrived; true when the server asked this client to reconnect.
    bool absorb(Millis window) {
        bool reconnect = false;
        if (!client_) return false;
        for (const auto& message : client_->collect(window)) {
            if (message.has_reconnect()) reconnect = true;
            if (!message.has_event()) continue;
            const v1::Event& event = message.event();
            if (event.has_member_joined()) view_.insert(event.member_joined().member().member_id());
            if (event.has_member_left()) view_.erase(event.member_left().member().member_id());
        }
        return reconnect || client_->ws().closed();
    }

    void drop() { client_.reset(); }
    bool connected() const { return client_ != nullptr; }
    std::string member_id() const { return client_ ? member_id_ : ""; }
    const std::set<std::string>& view() const { return view_; }

private:
    std::unique_ptr<Client> client_;
    std::string guest_token_;
    std::string member_id_;
    std::set<std::string> view_;
};

// Connects every watcher in `who` at the same moment to the server `server_of(index)`.
void join_storm(std::vector<Watcher>& watchers, const std::vector<std::size_t>& who,
                const std::function<const ServerProcess&(std::size_t)>& server_of) {
    std::barrier start(static_cast<std::ptrdiff_t>(who.size()));
    std::vector<std::string> failures(who.size());
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < who.size(); ++k) {
        threads.emplace_back([&, k] {
            start.arrive_and_wait();
            std::string why;
            if (!watchers[who[k]].connect(server_of(who[k]), why)) failures[k] = why;
        });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& failure : failures) {
        INFO(failure);
        CHECK(failure.empty());
    }
}

// Polls until every connected watcher's view equals the stored member set, which must equal the
// set of connected watchers. Reports the worst difference when it does not happen in time.
void require_converged(Instances& cluster, std::vector<Watcher>& watchers, Millis timeout) {
    std::set<std::string> present;
    for (const Watcher& w : watchers) {
        if (w.connected()) present.insert(w.member_id());
    }
    std::size_t worst = 0;
    std::set<std::string> stored;
    const bool converged = eventually(
        [&] {
            stored = cluster.stored_members();
            worst = 0;
            for (Watcher& w : watchers) {
                if (!w.connected()) continue;
                w.absorb(Millis(20));
                std::size_t differ = 0;
                for (const auto& id : stored) differ += w.view().count(id) == 0 ? 1 : 0;
                for (const auto& id : w.view()) differ += stored.count(id) == 0 ? 1 : 0;
                worst = std::max(worst, differ);
            }
            return worst == 0 && stored == present;
        },
        timeout, Millis(100));
    CAPTURE(worst);
    CAPTURE(stored.size());
    CAPTURE(present.size());
    CHECK(converged);
}

TEST_CASE(
    "cluster: every member's list converges on the stored member set through join storms, "
    "a drain and a killed instance") {
    Instances cluster(3, kFastPosts + "presence_delay_ms = 50\n");
    constexpr std::size_t kWatchers = 36;
    std::vector<Watcher> watchers(kWatchers);
    std::vector<std::size_t> everyone(kWatchers);
    for (std::size_t i = 0; i < kWatchers; ++i) everyone[i] = i;
    auto& servers = cluster.servers;

    // 1. Everyone joins at once, a third on each instance.
    join_storm(watchers, everyone,
               [&](std::size_t i) -> const ServerProcess& { return *servers[i % 3]; });
    require_converged(cluster, watchers, 10s);

    // 2. The third instance drains: its people are asked to reconnect and come back at once
    //    on the other two.
    REQUIRE(servers[2]->signal(SIGTERM));
    std::vector<std::size_t> moved;
    for (std::size_t i = 2; i < kWatchers; i += 3) moved.push_back(i);
    for (std::size_t i : moved) {
        INFO("watcher " << i);
        CHECK(eventually([&] { return watchers[i].absorb(Millis(20)); }, 5s));
        watchers[i].drop();
    }
    join_storm(watchers, moved,
               [&](std::size_t i) -> const ServerProcess& { return *servers[i % 2]; });
    REQUIRE(eventually([&] { return !servers[2]->running(); }, 10s));
    require_converged(cluster, watchers, 10s);

    // 3. A third of everyone drops and re-joins at the same moment, on another instance.
    std::vector<std::size_t> again;
    for (std::size_t i = 0; i < kWatchers; i += 3) again.push_back(i);
    for (std::size_t i : again) watchers[i].drop();
    join_storm(watchers, again,
               [&](std::size_t i) -> const ServerProcess& { return *servers[(i + 1) % 2]; });
    require_converged(cluster, watchers, 10s);

    // 4. The second instance is killed: its members are reaped by the survivor, and its people
    //    re-join there.
    REQUIRE(servers[1]->stop(SIGKILL, 5s).has_value());
    std::vector<std::size_t> orphans;
    for (std::size_t i = 0; i < kWatchers; ++i) {
        watchers[i].absorb(Millis(1));
        // Whoever was on the killed instance finds the connection gone.
        if (watchers[i].connected() && watchers[i].absorb(Millis(50))) orphans.push_back(i);
    }
    CHECK_FALSE(orphans.empty());
    for (std::size_t i : orphans) watchers[i].drop();
    join_storm(watchers, orphans, [&](std::size_t) -> const ServerProcess& { return *servers[0]; });
    require_converged(cluster, watchers, 20s);
}

}  // namespace
}  // namespace haven::test
