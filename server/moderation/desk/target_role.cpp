#include "moderation/desk/target_role.hpp"

#include <algorithm>

namespace haven::moderation {

bool is_guest_subject(std::string_view subject) {
    if (subject.size() != 15 || subject.substr(0, 2) != "g:") return false;
    return std::all_of(subject.begin() + 2, subject.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

std::optional<v1::Role> target_role(std::string_view subject, const std::string& room_id,
                                    v1::Role present_role, const broker::RoleLookup& lookup) {
    std::optional<v1::Role> role;
    if (present_role != v1::ROLE_UNSPECIFIED) role = present_role;
    if (lookup.ok && lookup.known) {
        role = std::max(role.value_or(v1::ROLE_UNSPECIFIED), lookup.known->in_room(room_id));
    }
    if (!role && is_guest_subject(subject)) role = v1::ROLE_PARTICIPANT;
    return role;
}

std::optional<v1::Role> highest_role(std::string_view subject, v1::Role present_role,
                                     const broker::RoleLookup& lookup) {
    std::optional<v1::Role> role = target_role(subject, "", present_role, lookup);
    if (role && lookup.ok && lookup.known) {
        for (const auto& [room, granted] : lookup.known->room_roles)
            role = std::max(*role, granted);
    }
    return role;
}

bool may_act_on(v1::Role actor, std::optional<v1::Role> target) {
    if (actor >= v1::ROLE_OPERATOR) return true;
    return target.has_value() && *target < actor;
}

}  // namespace haven::moderation
