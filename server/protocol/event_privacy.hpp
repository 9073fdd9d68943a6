// Stored events carry a few server-internal fields (who the author or target is, as a stable
// pseudonymous id) so moderators can act on people. They never leave the server.
#pragma once

#include "haven.pb.h"

namespace haven::protocol {

// Clears every server-internal field of an event about to be sent to clients.
void strip_internal_fields(v1::Event& event);
// A meeting's hands and floor name people by subject too (a hand outlives a reconnect).
void strip_internal_fields(v1::MeetingState& meeting);

}  // namespace haven::protocol
