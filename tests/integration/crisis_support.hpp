// What the crisis-safety tests on real instances share: a config with the shipped crisis
// lists, the moderators' tokens, and the requests and checks they make.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "haven.pb.h"
#include "integration/cluster_support.hpp"
#include "integration/helpers.hpp"

namespace haven::test {

// Fast posts, the shipped crisis lists, and `safety` as the [safety] table's lines.
std::string crisis_settings(const std::string& safety = "");

// Moderators of the lobby by a room grant (neither may close the other's claim), a global
// moderator and an operator.
extern const std::string kModeratorB;       // "Maya"
extern const std::string kModeratorC;       // "Noor"
extern const std::string kGlobalModerator;  // "Gale"
extern const std::string kOperator;         // "Olive"

Client moderator(const ServerProcess& server, const std::string& token);
// A ModerationItem push of this id and kind.
Predicate item(const std::string& id, v1::ModerationItem::Kind kind);
// Posts crisis language in the lobby and returns the alert's item id.
std::string raise_alert(Client& author, int round = 0);
v1::ClientMessage claim(const std::string& id);
v1::ClientMessage resolve(const std::string& id, v1::AlertOutcome outcome);
std::vector<v1::ModerationItem> queue_of(Client& client);
// A metric summed over instances.
std::uint64_t total(const std::vector<const ServerProcess*>& servers, const std::string& name);

v1::ClientMessage set_duty(bool on_duty, std::vector<std::string> rooms = {});
// A DutyRoster push naming this many people.
Predicate roster_with(std::size_t people);

}  // namespace haven::test
