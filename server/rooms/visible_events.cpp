#include "rooms/visible_events.hpp"

#include "protocol/event_privacy.hpp"

namespace haven::rooms {

void add_visible_events(google::protobuf::RepeatedPtrField<v1::Event>& out,
                        const std::vector<broker::EventPtr>& events, const Room& room,
                        v1::Role viewer_role) {
    const bool moderator = viewer_role >= v1::ROLE_MODERATOR;
    out.Reserve(static_cast<int>(events.size()));
    for (const auto& event : events) {
        if (!moderator && event->has_posted() && room.moderation.hidden(event->seq())) continue;
        v1::Event* copy = out.Add();
        *copy = *event;
        protocol::strip_internal_fields(*copy);
    }
}

}  // namespace haven::rooms
