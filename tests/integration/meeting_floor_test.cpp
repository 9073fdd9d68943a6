// A meeting's floor across instances on a real Redis: hands raised in the same instant on two
// instances reach every member in one identical order, posting out of turn is refused on
// either instance, the floor and its deadline outlive the instance they were set on, and a
// hand keeps its place across a reconnect to another instance.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"

namespace haven::test {
namespace {

const std::string kCircle =
    "[[rooms]]\nid = \"circle\"\ntitle = \"Circle\"\nkind = \"meeting\"\ncapacity = 100\n"
    "floor = { share_seconds = 240 }\n";

v1::ClientMessage meeting(v1::MeetingControl::Action action, const std::string& member_id = {},
                          std::uint32_t seconds = 0) {
    v1::ClientMessage message;
    v1::MeetingControl& control = *message.mutable_meeting();
    control.set_room_id("circle");
    control.set_action(action);
    control.set_member_id(member_id);
    control.set_seconds(seconds);
    return message;
}

v1::ClientMessage set_phase(v1::MeetingState::Phase phase) {
    v1::ClientMessage message = meeting(v1::MeetingControl::SET_PHASE);
    message.mutable_meeting()->set_phase(phase);
    return message;
}

bool is_meeting(const v1::ServerMessage& m) {
    return m.has_event() && m.event().has_meeting();
}

// The newest meeting state a client has been sent, reading until it has `version`; the
// versions it saw on the way must rise by one each time, in seq order.
v1::MeetingState state_at(Client& client, std::uint64_t version, std::uint64_t& last_seq) {
    v1::MeetingState newest;
    while (newest.version() < version) {
        const v1::ServerMessage got =
            client.expect(is_meeting, "the next meeting state", std::chrono::seconds(10));
        CHECK(got.event().seq() > last_seq);
        last_seq = got.event().seq();
        if (newest.version() != 0) CHECK(got.event().meeting().version() == newest.version() + 1);
        newest = got.event().meeting();
    }
    return newest;
}

std::vector<std::string> hand_ids(const v1::MeetingState& state) {
    std::vector<std::string> ids;
    for (const v1::MeetingSpeaker& hand : state.hands()) ids.push_back(hand.member().member_id());
    return ids;
}

Client facilitator(const ServerProcess& server, const std::string& name) {
    Client client(server, Encoding::binary);
    client.hello_token(make_token("facilitator-" + name, name, "peer_supporter", 3600));
    client.join("circle");
    return client;
}

}  // namespace

TEST_CASE(
    "meeting floor on two instances: 20 hands raised in the same instant, 10 on each, reach every "
    "member in one identical order; out of turn is FLOOR_HELD on either instance; the holder and "
    "facilitators post") {
    TwoInstances cluster("floor-order", kFastPosts + kCircle);
    Client host = facilitator(*cluster.first, "Sam");
    std::vector<std::unique_ptr<Client>> people;
    for (int i = 0; i < 20; ++i) {
        const ServerProcess& server = i % 2 == 0 ? *cluster.first : *cluster.second;
        people.push_back(
            std::make_unique<Client>(server, i % 3 == 0 ? Encoding::json : Encoding::binary));
        people.back()->hello_guest("Person" + std::to_string(i));
        people.back()->join("circle");
    }
    std::uint64_t host_seq = 0;
    REQUIRE(host.reply(host.send(set_phase(v1::MeetingState::SHARING))).has_ack());
    const v1::MeetingState sharing = state_at(host, 1, host_seq);
    CHECK(sharing.floor_only());

    // Everyone at once: every request is on the wire before any answer is read.
    std::vector<std::uint64_t> requests;
    for (auto& person : people)
        requests.push_back(person->send(meeting(v1::MeetingControl::RAISE_HAND)));
    for (std::size_t i = 0; i < people.size(); ++i) {
        CAPTURE(i);
        REQUIRE(people[i]->reply(requests[i], std::chrono::seconds(10)).has_ack());
    }
    const std::uint64_t all_up = sharing.version() + 20;
    const v1::MeetingState seen_by_host = state_at(host, all_up, host_seq);
    const std::vector<std::string> order = hand_ids(seen_by_host);
    REQUIRE(order.size() == 20);
    std::vector<std::string> everyone;
    for (auto& person : people) everyone.push_back(person->member_id());
    std::vector<std::string> sorted_order = order;
    std::sort(sorted_order.begin(), sorted_order.end());
    std::sort(everyone.begin(), everyone.end());
    CHECK(sorted_order == everyone);  // each hand once
    for (std::size_t i = 0; i < people.size(); ++i) {
        CAPTURE(i);
        std::uint64_t seq = 0;
        const v1::MeetingState seen = state_at(*people[i], all_up, seq);
        CHECK(hand_ids(seen) == order);
        for (const v1::MeetingSpeaker& hand : seen.hands()) CHECK(hand.subject().empty());
    }
    // A newcomer on either instance is given the same queue in Joined.
    for (ServerProcess* server : {cluster.first.get(), cluster.second.get()}) {
        Client late(*server, Encoding::json);
        late.hello_guest("Late");
        CHECK(hand_ids(late.join("circle").meeting()) == order);
    }

    // The floor goes to the first hand; only they (and facilitators) may post now.
    REQUIRE(host.reply(host.send(meeting(v1::MeetingControl::GIVE_FLOOR))).has_ack());
    const v1::MeetingState floor = state_at(host, all_up + 1, host_seq);
    REQUIRE(floor.has_floor());
    CHECK(floor.floor().member().member_id() == order.front());
    const auto holder = std::find_if(people.begin(), people.end(), [&](const auto& p) {
        return p->member_id() == order.front();
    });
    REQUIRE(holder != people.end());
    Client* out_of_turn_a = nullptr;
    Client* out_of_turn_b = nullptr;
    for (std::size_t i = 0; i < people.size(); ++i) {
        if (people[i].get() == holder->get()) continue;
        (i % 2 == 0 ? out_of_turn_a : out_of_turn_b) = people[i].get();
    }
    REQUIRE(out_of_turn_a != nullptr);
    REQUIRE(out_of_turn_b != nullptr);
    for (Client* other : {out_of_turn_a, out_of_turn_b}) {
        CHECK(other->error_reply(other->send(msg_post("circle", "can I say something"))) ==
              v1::FLOOR_HELD);
    }
    CHECK((*holder)->post("circle", "thank you for listening").seq() > 0);
    CHECK(host.post("circle", "thank you for sharing").seq() > 0);
    // Open discussion: everyone again.
    REQUIRE(host.reply(host.send(set_phase(v1::MeetingState::OPEN_DISCUSSION))).has_ack());
    CHECK(out_of_turn_b->post("circle", "that resonated with me").seq() > 0);
}

TEST_CASE(
    "meeting floor on two instances: the instance where the floor was given is killed mid-share: "
    "the holder and the share's deadline are there on the other and on a new instance, and a "
    "facilitator there goes on from them") {
    TwoInstances cluster("floor-killed", kFastPosts + kCircle);
    Client host = facilitator(*cluster.first, "Sam");
    Client robin(*cluster.second, Encoding::binary);
    robin.hello_guest("Robin");
    robin.join("circle");
    REQUIRE(host.reply(host.send(set_phase(v1::MeetingState::SHARING))).has_ack());
    REQUIRE(robin.reply(robin.send(meeting(v1::MeetingControl::RAISE_HAND))).has_ack());
    REQUIRE(host.reply(host.send(meeting(v1::MeetingControl::GIVE_FLOOR))).has_ack());
    std::uint64_t seq = 0;
    const v1::MeetingState given = state_at(robin, 3, seq);
    REQUIRE(given.has_floor());
    CHECK(given.floor().member().member_id() == robin.member_id());
    CHECK(given.floor_deadline_ms() == given.floor().since_ms() + 240'000);

    cluster.first->stop(SIGKILL);
    // Robin keeps the floor on B, and B alone refuses the others.
    CHECK(robin.post("circle", "so that was my week").seq() > 0);
    Client kai(*cluster.second, Encoding::json);
    kai.hello_guest("Kai");
    const v1::Joined kai_joined = kai.join("circle");
    CHECK(kai_joined.meeting().floor().member().member_id() == robin.member_id());
    CHECK(kai_joined.meeting().floor_deadline_ms() == given.floor_deadline_ms());
    CHECK(kai.error_reply(kai.send(msg_post("circle", "hi"))) == v1::FLOOR_HELD);

    // A new instance knows it from the broker alone; a facilitator there extends the share.
    ServerProcess later(
        ServerOptions{.toml = cluster_toml(cluster.redis, cluster.prefix, kFastPosts + kCircle)});
    require_started(later);
    Client noor(later, Encoding::binary);
    noor.hello_token(make_token("facilitator-Noor", "Noor", "peer_supporter", 3600));
    const v1::Joined joined = noor.join("circle");
    CHECK(joined.meeting().floor().member().member_id() == robin.member_id());
    CHECK(joined.meeting().floor_deadline_ms() == given.floor_deadline_ms());
    REQUIRE(noor.reply(noor.send(meeting(v1::MeetingControl::EXTEND_SHARE, {}, 60))).has_ack());
    const v1::MeetingState extended = state_at(robin, given.version() + 1, seq);
    CHECK(extended.floor_deadline_ms() == given.floor_deadline_ms() + 60'000);
    CHECK(extended.by().handle() == "Noor");
}

TEST_CASE(
    "meeting floor: a raised hand keeps its place when its person reconnects to another "
    "instance, and they lower it from there; others cannot lower it") {
    TwoInstances cluster("floor-reconnect", kFastPosts + kCircle);
    Client host = facilitator(*cluster.second, "Sam");
    std::vector<std::unique_ptr<Client>> before;
    for (const char* name : {"Ada", "Ben"}) {
        before.push_back(std::make_unique<Client>(*cluster.second, Encoding::binary));
        before.back()->hello_guest(name);
        before.back()->join("circle");
        REQUIRE(before.back()
                    ->reply(before.back()->send(meeting(v1::MeetingControl::RAISE_HAND)))
                    .has_ack());
    }
    auto robin = std::make_unique<Client>(*cluster.first, Encoding::json);
    const v1::Welcome welcome = robin->hello_guest("Robin");
    robin->join("circle");
    REQUIRE(robin->reply(robin->send(meeting(v1::MeetingControl::RAISE_HAND))).has_ack());
    Client cleo(*cluster.first, Encoding::binary);
    cleo.hello_guest("Cleo");
    cleo.join("circle");
    REQUIRE(cleo.reply(cleo.send(meeting(v1::MeetingControl::RAISE_HAND))).has_ack());
    std::uint64_t seq = 0;
    const std::vector<std::string> order = hand_ids(state_at(host, 4, seq));
    REQUIRE(order.size() == 4);
    CHECK(order[2] == robin->member_id());

    // Robin's connection drops; they come back on the other instance as the same guest.
    robin->ws().drop();
    robin.reset();
    Client robin_again(*cluster.second, Encoding::binary);
    robin_again.hello_guest("Robin", welcome.guest_token());
    const v1::Joined joined = robin_again.join("circle");
    CHECK(hand_ids(joined.meeting()) == order);  // third, as before
    // Someone else cannot take their hand down; they can, from the new session.
    CHECK(cleo.error_reply(cleo.send(meeting(v1::MeetingControl::LOWER_HAND, order[2]))) ==
          v1::FORBIDDEN);
    REQUIRE(robin_again.reply(robin_again.send(meeting(v1::MeetingControl::LOWER_HAND))).has_ack());
    std::uint64_t again_seq = 0;
    const v1::MeetingState lowered = state_at(robin_again, 5, again_seq);
    CHECK(hand_ids(lowered) == std::vector<std::string>{order[0], order[1], order[3]});
}

TEST_CASE(
    "meeting floor on two instances: the instance of the facilitator and of a raised hand is "
    "killed: after the hand's grace it comes down on the other; the meeting pauses there until "
    "a facilitator is back, and goes on") {
    const std::string circle =
        "[[rooms]]\nid = \"circle\"\ntitle = \"Circle\"\nkind = \"meeting\"\n"
        "floor = { hand_grace_seconds = 2, facilitator_grace_seconds = 600 }\n";
    TwoInstances cluster("floor-paused", kFastPosts + circle);
    Client host = facilitator(*cluster.first, "Sam");
    Client ada(*cluster.first, Encoding::binary);
    ada.hello_guest("Ada");
    ada.join("circle");
    Client robin(*cluster.second, Encoding::json);
    robin.hello_guest("Robin");
    robin.join("circle");
    REQUIRE(host.reply(host.send(set_phase(v1::MeetingState::OPEN_DISCUSSION))).has_ack());
    REQUIRE(ada.reply(ada.send(meeting(v1::MeetingControl::RAISE_HAND))).has_ack());
    REQUIRE(robin.reply(robin.send(meeting(v1::MeetingControl::RAISE_HAND))).has_ack());
    std::uint64_t seq = 0;
    CHECK(hand_ids(state_at(robin, 3, seq)).size() == 2);
    CHECK(robin.post("circle", "I'm glad to be here").seq() > 0);

    cluster.first->stop(SIGKILL);
    // B sees A's members go (presence), then lowers Ada's hand and pauses the meeting.
    v1::MeetingState seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((seen.hands_size() != 1 || seen.paused_until_ms() == 0) &&
           std::chrono::steady_clock::now() < deadline) {
        if (auto got = robin.next(is_meeting, std::chrono::seconds(1))) {
            seen = got->event().meeting();
        }
    }
    REQUIRE(seen.hands_size() == 1);
    CHECK(seen.hands(0).member().member_id() == robin.member_id());
    REQUIRE(seen.paused_until_ms() > 0);
    CHECK_FALSE(seen.has_by());
    const v1::ServerMessage paused = robin.reply(robin.send(msg_post("circle", "hello?")));
    REQUIRE(paused.has_error());
    CHECK(paused.error().code() == v1::MEETING_CLOSED);
    CHECK(paused.error().retry_after_ms() > 590'000);

    // The facilitator comes back on B: the meeting goes on.
    Client back = facilitator(*cluster.second, "Sam");
    REQUIRE(eventually(
        [&] {
            auto got = robin.next(is_meeting, std::chrono::milliseconds(200));
            return got && got->event().meeting().paused_until_ms() == 0;
        },
        std::chrono::seconds(10)));
    CHECK(robin.post("circle", "welcome back").seq() > 0);
}

}  // namespace haven::test
