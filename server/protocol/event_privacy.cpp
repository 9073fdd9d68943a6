#include "protocol/event_privacy.hpp"

namespace haven::protocol {

void strip_internal_fields(v1::MeetingState& meeting) {
    for (v1::MeetingSpeaker& hand : *meeting.mutable_hands()) hand.clear_subject();
    for (v1::MeetingSpeaker& turn : *meeting.mutable_round()) turn.clear_subject();
    if (meeting.has_floor()) meeting.mutable_floor()->clear_subject();
}

void strip_internal_fields(v1::Event& event) {
    switch (event.kind_case()) {
        case v1::Event::kPosted:
            event.mutable_posted()->clear_author_subject();
            break;
        case v1::Event::kPostRestored:
            event.mutable_post_restored()->mutable_post()->clear_author_subject();
            break;
        case v1::Event::kMemberMuted:
            event.mutable_member_muted()->clear_subject();
            event.mutable_member_muted()->clear_reason();
            break;
        case v1::Event::kMemberUnmuted:
            event.mutable_member_unmuted()->clear_subject();
            break;
        case v1::Event::kMemberRemoved:
            event.mutable_member_removed()->clear_subject();
            event.mutable_member_removed()->clear_address_key();
            event.mutable_member_removed()->clear_reason();
            break;
        case v1::Event::kMemberUnbanned:
            event.mutable_member_unbanned()->clear_subject();
            break;
        case v1::Event::kMeeting:
            strip_internal_fields(*event.mutable_meeting());
            break;
        default:
            break;
    }
}

}  // namespace haven::protocol
