// Crisis alerts when instances fail, on a real Redis: the escalation ladder goes on without the
// instance that started it; a claim made just as its instance is killed leaves one owner, never
// two; and moderators who all come back at once, after their instance died, find every open
// alert again, with its owner, and hear of the one raised meanwhile.
#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>

#include "integration/crisis_support.hpp"
#include "support/http_receiver.hpp"

namespace haven::test {

TEST_CASE(
    "resilience: an instance killed halfway up the ladder: the other takes the remaining steps, "
    "each once, and the webhook is sent once") {
    HttpReceiver receiver;
    const std::string safety =
        "claim_timeout_seconds = 1\nescalation_step_seconds = 2\n"
        "webhook_url = \"" +
        receiver.url() + "\"\n";
    TwoInstances cluster("ladder-killed", crisis_settings(safety));
    Client author = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    Client maya = moderator(*cluster.second, kModeratorB);
    const std::string id = raise_alert(author);
    maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert");
    const v1::ServerMessage first =
        maya.expect(item(id, v1::ModerationItem::ESCALATED), "step 1", std::chrono::seconds(10));
    CHECK(first.moderation_item().escalation() == 1);
    cluster.first->stop(SIGKILL);  // the author's instance, mid-ladder
    for (std::uint32_t step = 2; step <= 3; ++step) {
        CAPTURE(step);
        const v1::ServerMessage escalated = maya.expect(item(id, v1::ModerationItem::ESCALATED),
                                                        "a step on B", std::chrono::seconds(10));
        CHECK(escalated.moderation_item().escalation() == step);
    }
    REQUIRE(eventually([&] { return receiver.received().size() == 1; }, std::chrono::seconds(10)));
    CHECK(metric(*cluster.second, "haven_alert_escalations_total{step=\"2\"}") == 1u);
    CHECK(metric(*cluster.second, "haven_alert_escalations_total{step=\"3\"}") == 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    CHECK(receiver.received().size() == 1);
    // Still open and unclaimed: a moderator can claim it on B.
    REQUIRE(maya.reply(maya.send(claim(id))).has_ack());
}

TEST_CASE(
    "resilience: a claim sent just as its instance is killed leaves exactly one owner, whichever "
    "way it went, 5 times") {
    TwoInstances cluster("claim-killed", crisis_settings());
    Client author = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    Client maya = moderator(*cluster.first, kModeratorB);
    int noor_kept = 0;
    static constexpr int kKillDelaysMs[] = {0, 1, 3, 10, 50};
    for (int round = 0; round < 5; ++round) {
        CAPTURE(round);
        const std::string id = raise_alert(author, round);
        maya.expect(item(id, v1::ModerationItem::CRISIS), "the alert");
        {
            ServerProcess doomed(ServerOptions{
                .toml = cluster_toml(cluster.redis, cluster.prefix, crisis_settings())});
            require_started(doomed);
            Client noor = moderator(doomed, kModeratorC);
            noor.send(claim(id));  // not waited for
            // From at once to long enough for the claim to reach Redis: both ways happen.
            std::this_thread::sleep_for(std::chrono::milliseconds(kKillDelaysMs[round]));
            doomed.stop(SIGKILL);
        }
        // Maya claims too: she wins, or she is told that Noor owns it. Never both, never neither.
        const v1::ServerMessage answer = maya.reply(maya.send(claim(id)));
        const std::string owner = answer.has_ack() ? "Maya" : "Noor";
        if (!answer.has_ack()) {
            REQUIRE(answer.has_error());
            CHECK(answer.error().code() == v1::ALREADY_CLAIMED);
            CHECK(answer.error().message().find("Noor") != std::string::npos);
            ++noor_kept;
        }
        bool found = false;
        for (const v1::ModerationItem& open : queue_of(maya)) {
            if (open.id() != id) continue;
            found = true;
            CHECK(open.claimed_by() == owner);
        }
        CHECK(found);
        // Only the owner may close it; a global moderator may close anyone's.
        Client gale = moderator(*cluster.second, kGlobalModerator);
        REQUIRE(gale.reply(gale.send(resolve(id, v1::FALSE_ALARM))).has_ack());
        maya.expect(item(id, v1::ModerationItem::RESOLVED), "closed");
    }
    MESSAGE("claims that reached Redis before the kill: ", noor_kept, " of 5");
}

TEST_CASE(
    "resilience: 30 moderators whose instance dies reconnect at once to the other: each finds "
    "every open alert with its owner, and the alert raised during the storm") {
    TwoInstances cluster("mod-storm", crisis_settings());
    Client author = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    Client maya = moderator(*cluster.first, kModeratorB);
    std::vector<std::string> open_ids;
    for (int round = 0; round < 3; ++round) open_ids.push_back(raise_alert(author, round));
    for (const std::string& id : open_ids) {
        maya.expect(item(id, v1::ModerationItem::CRISIS), "an alert");
    }
    REQUIRE(maya.reply(maya.send(claim(open_ids[0]))).has_ack());

    constexpr int kModerators = 30;
    std::vector<std::string> tokens;
    for (int i = 0; i < kModerators; ++i) {
        tokens.push_back(
            make_token("storm-" + std::to_string(i), "Mod" + std::to_string(i), "moderator", 600));
    }
    {
        std::vector<std::unique_ptr<Client>> on_b;
        for (const std::string& token : tokens) {
            on_b.push_back(std::make_unique<Client>(*cluster.second, Encoding::binary));
            on_b.back()->hello_token(token);
        }
        cluster.second->stop(SIGKILL);
    }
    // All at once: every connection opened, then every Hello, then every queue request, with
    // nothing waited for in between; an alert is raised in the middle of it.
    std::vector<std::unique_ptr<Client>> back;
    for (int i = 0; i < kModerators; ++i) {
        back.push_back(std::make_unique<Client>(*cluster.first, Encoding::binary));
    }
    std::vector<std::uint64_t> hellos;
    for (int i = 0; i < kModerators; ++i)
        hellos.push_back(back[i]->send(msg_hello_token(tokens[i])));
    const std::string during = raise_alert(author, 3);
    std::vector<std::uint64_t> asks;
    for (int i = 0; i < kModerators; ++i) {
        REQUIRE(back[i]->reply(hellos[i]).has_welcome());
        v1::ClientMessage request;
        request.mutable_moderation_queue();
        asks.push_back(back[i]->send(request));
    }
    for (int i = 0; i < kModerators; ++i) {
        CAPTURE(i);
        const v1::ServerMessage queue = back[i]->reply(asks[i]);
        REQUIRE(queue.has_moderation_queue());
        std::set<std::string> seen;
        for (const v1::ModerationItem& open : queue.moderation_queue().items()) {
            seen.insert(open.id());
            if (open.id() == open_ids[0]) CHECK(open.claimed_by() == "Maya");
        }
        for (const std::string& id : open_ids) CHECK(seen.count(id) == 1);
        // The alert raised during the storm: in the queue, or pushed to them live.
        if (seen.count(during) == 0) {
            back[i]->expect(item(during, v1::ModerationItem::CRISIS), "the alert from the storm");
        }
    }
}

// The receiver fails at first, and each attempt times out after 0.5 s: a hold of 4 s (two
// attempts of 0.5 s, a pause of 1 s and a margin of 2 s).
std::string failing_webhook_settings(const HttpReceiver& receiver) {
    return "claim_timeout_seconds = 1\nescalation_step_seconds = 1\nwebhook_url = \"" +
           receiver.url() + "\"\nwebhook_attempts = 2\nwebhook_timeout_ms = 500\n";
}

TEST_CASE(
    "resilience: the instance sending an alert's webhook is killed before the receiver takes it: "
    "the other sends it when the hold runs out, once") {
    HttpReceiver receiver(503);
    TwoInstances cluster("webhook-killed", crisis_settings(failing_webhook_settings(receiver)));
    Client author = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    const std::string id = raise_alert(author);
    REQUIRE(eventually([&] { return receiver.received().size() == 1; }, std::chrono::seconds(15)));
    // Whoever took step 3 is sending: kill it between its two attempts.
    const bool first_sends =
        metric(*cluster.first, "haven_alert_escalations_total{step=\"3\"}").value_or(0) == 1;
    ServerProcess& sender = first_sends ? *cluster.first : *cluster.second;
    ServerProcess& survivor = first_sends ? *cluster.second : *cluster.first;
    sender.stop(SIGKILL);
    receiver.answer_with(200);
    REQUIRE(eventually([&] { return metric(survivor, "haven_alert_webhook_sent_total") == 1u; },
                       std::chrono::seconds(15)));
    const boost::json::value body = boost::json::parse(receiver.received().back().body);
    CHECK(body.at("item_id").as_string() == id);
    // Taken: nobody sends it again, however long it stays open.
    const std::size_t requests = receiver.received().size();
    std::this_thread::sleep_for(std::chrono::seconds(5));
    CHECK(receiver.received().size() == requests);
    CHECK(metric(survivor, "haven_alert_webhook_sent_total") == 1u);
}

TEST_CASE(
    "resilience: a webhook whose every attempt failed is sent again after the hold, until the "
    "receiver takes it; a claim stops it") {
    HttpReceiver receiver(503);
    TwoInstances cluster("webhook-retried", crisis_settings(failing_webhook_settings(receiver)));
    const std::vector<const ServerProcess*> both{cluster.first.get(), cluster.second.get()};
    Client author = guest_in(*cluster.first, Encoding::binary, "lobby", "Robin");
    Client maya = moderator(*cluster.second, kModeratorB);
    const std::string id = raise_alert(author);
    // Two attempts, then two more once the hold has run out.
    REQUIRE(eventually([&] { return receiver.received().size() >= 4; }, std::chrono::seconds(25)));
    CHECK(total(both, "haven_alert_webhook_failures_total") >= 2);
    receiver.answer_with(200);
    REQUIRE(eventually([&] { return total(both, "haven_alert_webhook_sent_total") == 1; },
                       std::chrono::seconds(15)));
    const std::size_t requests = receiver.received().size();
    std::this_thread::sleep_for(std::chrono::seconds(5));
    CHECK(receiver.received().size() == requests);

    // Another alert nobody answers, failing, then claimed: no more attempts after the claim.
    receiver.answer_with(503);
    const std::string second = raise_alert(author, 1);
    REQUIRE(eventually([&] { return receiver.received().size() >= requests + 2; },
                       std::chrono::seconds(15)));
    REQUIRE(maya.reply(maya.send(claim(second))).has_ack());
    std::this_thread::sleep_for(std::chrono::seconds(2));  // an attempt in flight may end
    const std::size_t after_claim = receiver.received().size();
    std::this_thread::sleep_for(std::chrono::seconds(5));
    CHECK(receiver.received().size() == after_claim);
}

}  // namespace haven::test
