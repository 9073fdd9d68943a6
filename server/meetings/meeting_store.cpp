#include "meetings/meeting_store.hpp"

#include <string>

namespace haven::meetings {

v1::MeetingState load_meeting(const moderation::StateFields& fields) {
    v1::MeetingState state;
    const auto found = fields.find(std::string(kMeetingField));
    if (found == fields.end()) return state;
    const auto stored = moderation::parse_versioned(found->second);
    if (!stored ||
        !state.ParseFromArray(stored->payload.data(), static_cast<int>(stored->payload.size()))) {
        return v1::MeetingState{};
    }
    state.set_version(stored->version);
    return state;
}

moderation::StateChange store_meeting(const v1::MeetingState& next, std::uint64_t expected) {
    return moderation::StateChange::swap(
        std::string(kMeetingField),
        moderation::versioned_value(next.version(), next.SerializeAsString()), expected);
}

void keep_newer(v1::MeetingState& kept, const v1::MeetingState& incoming) {
    if (incoming.version() > kept.version()) kept = incoming;
}

}  // namespace haven::meetings
