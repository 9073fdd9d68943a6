// The people of the meeting unit tests: member "a" is handle "person-a", subject "subject-a".
#pragma once

#include <cstdint>
#include <string>

#include "haven.pb.h"

namespace haven::test {

inline constexpr std::uint64_t kMeetingNow = 1'800'000'000'000;

inline v1::Member meeting_member(const std::string& id, v1::Role role = v1::ROLE_PARTICIPANT) {
    v1::Member m;
    m.set_handle("person-" + id);
    m.set_member_id(id);
    m.set_role(role);
    return m;
}

}  // namespace haven::test
