// Rank for moderator actions: the target's highest known role, the guest rule, what an
// unknown role allows, and the memory of roles the embedded broker keeps.
#include <doctest/doctest.h>

#include "broker/known_roles.hpp"
#include "moderation/desk/actor_label.hpp"
#include "moderation/desk/target_role.hpp"

using namespace haven;
using moderation::may_act_on;
using moderation::target_role;

namespace {

broker::RoleLookup remembered(v1::Role role, std::map<std::string, v1::Role> rooms = {}) {
    broker::RoleLookup lookup;
    lookup.ok = true;
    lookup.known = broker::KnownRole{role, std::move(rooms)};
    return lookup;
}

const broker::RoleLookup kNeverSeen{true, std::nullopt};
const broker::RoleLookup kUnreachable{false, std::nullopt};

}  // namespace

TEST_CASE("target role: the highest of presence, remembered role and room grant") {
    CHECK(target_role("sub-a", "lobby", v1::ROLE_UNSPECIFIED, remembered(v1::ROLE_OPERATOR)) ==
          v1::ROLE_OPERATOR);
    // Present as a participant in this room, but an operator: the operator counts.
    CHECK(target_role("sub-a", "lobby", v1::ROLE_PARTICIPANT, remembered(v1::ROLE_OPERATOR)) ==
          v1::ROLE_OPERATOR);
    // A grant counts in its own room only.
    const auto granted = remembered(v1::ROLE_PARTICIPANT, {{"lobby", v1::ROLE_MODERATOR}});
    CHECK(target_role("sub-a", "lobby", v1::ROLE_UNSPECIFIED, granted) == v1::ROLE_MODERATOR);
    CHECK(target_role("sub-a", "other", v1::ROLE_UNSPECIFIED, granted) == v1::ROLE_PARTICIPANT);
    // Present, with the broker unreachable: the presence record still tells.
    CHECK(target_role("sub-a", "lobby", v1::ROLE_MODERATOR, kUnreachable) == v1::ROLE_MODERATOR);
}

TEST_CASE("target role: unknown unless seen, present or a guest") {
    CHECK_FALSE(target_role("sub-a", "lobby", v1::ROLE_UNSPECIFIED, kNeverSeen).has_value());
    CHECK_FALSE(target_role("sub-a", "lobby", v1::ROLE_UNSPECIFIED, kUnreachable).has_value());
    CHECK(target_role("g:AbCdEfGhIjK-_", "lobby", v1::ROLE_UNSPECIFIED, kUnreachable) ==
          v1::ROLE_PARTICIPANT);
    CHECK(moderation::is_guest_subject("g:0123456789abc"));
    CHECK_FALSE(moderation::is_guest_subject("g:0123456789ab"));   // too short
    CHECK_FALSE(moderation::is_guest_subject("g:0123456789ab!"));  // not URL-safe
    CHECK_FALSE(moderation::is_guest_subject("x:0123456789abc"));
}

TEST_CASE("may act on: strictly below, operators on anyone, unknown for operators only") {
    CHECK(may_act_on(v1::ROLE_MODERATOR, v1::ROLE_PEER_SUPPORTER));
    CHECK_FALSE(may_act_on(v1::ROLE_MODERATOR, v1::ROLE_MODERATOR));
    CHECK_FALSE(may_act_on(v1::ROLE_MODERATOR, v1::ROLE_OPERATOR));
    CHECK_FALSE(may_act_on(v1::ROLE_MODERATOR, std::nullopt));
    CHECK(may_act_on(v1::ROLE_OPERATOR, v1::ROLE_OPERATOR));
    CHECK(may_act_on(v1::ROLE_OPERATOR, std::nullopt));
}

TEST_CASE("known roles: raised only, forgotten after the memory time, bounded in people") {
    broker::KnownRoles roles(broker::RoleMemory{1000, 3});
    roles.record("a", broker::KnownRole{v1::ROLE_OPERATOR, {}}, 0);
    roles.record("a", broker::KnownRole{v1::ROLE_PARTICIPANT, {{"lobby", v1::ROLE_MODERATOR}}}, 10);
    auto a = roles.find("a", 20);
    REQUIRE(a);
    CHECK(a->role == v1::ROLE_OPERATOR);  // a lower role later does not lower it
    CHECK(a->in_room("lobby") == v1::ROLE_OPERATOR);
    CHECK(a->room_roles.at("lobby") == v1::ROLE_MODERATOR);
    CHECK_FALSE(roles.find("a", 2000).has_value());  // not seen for longer than the memory
    // Seen again after being forgotten: starts afresh.
    roles.record("a", broker::KnownRole{v1::ROLE_PARTICIPANT, {}}, 3000);
    CHECK(roles.find("a", 3000)->role == v1::ROLE_PARTICIPANT);
    roles.record("b", broker::KnownRole{v1::ROLE_MODERATOR, {}}, 3001);
    roles.record("c", broker::KnownRole{v1::ROLE_MODERATOR, {}}, 3002);
    roles.record("d", broker::KnownRole{v1::ROLE_MODERATOR, {}}, 3003);
    CHECK(roles.size() == 3);
    CHECK_FALSE(roles.find("a", 3004).has_value());  // the one seen longest ago went first
    CHECK(roles.find("d", 3004).has_value());
}

TEST_CASE("actor labels: stable per actor and room, different across rooms and actors") {
    const std::string key = "key";
    const std::string label = moderation::actor_label(key, "lobby", "sub-a");
    CHECK(label.rfind("actor-", 0) == 0);
    CHECK(label.size() == 18);
    CHECK(label == moderation::actor_label(key, "lobby", "sub-a"));
    CHECK(label != moderation::actor_label(key, "other", "sub-a"));
    CHECK(label != moderation::actor_label(key, "lobby", "sub-b"));
    CHECK(label != moderation::actor_label("another key", "lobby", "sub-a"));
    CHECK(moderation::actor_label(key, "lobby", "").empty());
}
