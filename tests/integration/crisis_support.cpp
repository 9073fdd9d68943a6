#include "integration/crisis_support.hpp"

#include <chrono>

#include "support/token_factory.hpp"

namespace haven::test {
namespace {

// Moderators of the lobby by a room grant: neither may close the other's claim.
std::string lobby_moderator(const std::string& subject, const std::string& name) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return make_hs256_token(R"({"sub":")" + subject + R"(","name":")" + name +
                                R"(","rooms":{"lobby":"moderator"},"exp":)" +
                                std::to_string(now + 600) + "}",
                            kJwtSecret);
}

}  // namespace

std::string crisis_settings(const std::string& safety) {
    return kFastPosts + "[moderation]\ncrisis_dir = \"" + std::string(HAVEN_SOURCE_DIR) +
           "/config/crisis\"\n[safety]\n" + safety;
}

const std::string kModeratorB = lobby_moderator("mod-b", "Maya");
const std::string kModeratorC = lobby_moderator("mod-c", "Noor");
const std::string kGlobalModerator = make_token("mod-g", "Gale", "moderator", 600);
const std::string kOperator = make_token("op-1", "Olive", "operator", 600);

Client moderator(const ServerProcess& server, const std::string& token) {
    Client client(server, Encoding::binary);
    client.hello_token(token);
    return client;
}

Predicate item(const std::string& id, v1::ModerationItem::Kind kind) {
    return [id, kind](const v1::ServerMessage& m) {
        return m.has_moderation_item() && m.moderation_item().id() == id &&
               m.moderation_item().kind() == kind;
    };
}

// Posts crisis language in the lobby and returns the alert's item id.
std::string raise_alert(Client& author, int round) {
    const v1::Ack ack = author.post(
        "lobby", "round " + std::to_string(round) + ": I am going to end my life tonight");
    REQUIRE(ack.seq() > 0);
    return "crisis:lobby:" + std::to_string(ack.seq());
}

v1::ClientMessage claim(const std::string& id) {
    v1::ClientMessage message;
    message.mutable_moderate()->set_room_id("lobby");
    message.mutable_moderate()->set_action(v1::CLAIM_ITEM);
    message.mutable_moderate()->set_item_id(id);
    return message;
}

v1::ClientMessage resolve(const std::string& id, v1::AlertOutcome outcome) {
    v1::ClientMessage message = claim(id);
    message.mutable_moderate()->set_action(v1::RESOLVE_ITEM);
    message.mutable_moderate()->set_outcome(outcome);
    return message;
}

std::vector<v1::ModerationItem> queue_of(Client& client) {
    v1::ClientMessage request;
    request.mutable_moderation_queue();
    const v1::ServerMessage reply = client.reply(client.send(request));
    REQUIRE(reply.has_moderation_queue());
    return {reply.moderation_queue().items().begin(), reply.moderation_queue().items().end()};
}

std::uint64_t total(const std::vector<const ServerProcess*>& servers, const std::string& name) {
    std::uint64_t sum = 0;
    for (const ServerProcess* server : servers) sum += metric(*server, name).value_or(0);
    return sum;
}

v1::ClientMessage set_duty(bool on_duty, std::vector<std::string> rooms) {
    v1::ClientMessage message;
    message.mutable_set_duty()->set_on_duty(on_duty);
    for (std::string& room : rooms) message.mutable_set_duty()->add_room_ids(std::move(room));
    return message;
}

Predicate roster_with(std::size_t people) {
    return [people](const v1::ServerMessage& m) {
        return m.has_duty_roster() &&
               static_cast<std::size_t>(m.duty_roster().on_duty_size()) == people;
    };
}

}  // namespace haven::test
