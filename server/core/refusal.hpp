// What an abuse limit refused, one label each in haven_refused_total{reason}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace haven::core {

enum class Refusal : std::uint8_t {
    none,
    connections_per_address,  // connections open at once from one address
    upgrades_per_address,     // connections from one address not yet upgraded
    address_table_full,       // limits.max_tracked_addresses reached
    address_buffer,           // unfinished frames of one address over its byte budget
    new_guests_per_address,   // new guests an hour from one address
    upload_timeout,           // a frame that did not finish arriving in time
    join_leave_rate,          // a session's joins and leaves
    history_rate,             // a session's History events
    banned_address,           // a join from an address banned from the room
};
inline constexpr std::size_t kRefusalKinds = 10;

constexpr std::string_view refusal_label(Refusal refusal) {
    switch (refusal) {
        case Refusal::none:
            return "none";
        case Refusal::connections_per_address:
            return "connections_per_address";
        case Refusal::upgrades_per_address:
            return "upgrades_per_address";
        case Refusal::address_table_full:
            return "address_table_full";
        case Refusal::address_buffer:
            return "address_buffer";
        case Refusal::new_guests_per_address:
            return "new_guests_per_address";
        case Refusal::upload_timeout:
            return "upload_timeout";
        case Refusal::join_leave_rate:
            return "join_leave_rate";
        case Refusal::history_rate:
            return "history_rate";
        case Refusal::banned_address:
            return "banned_address";
    }
    return "unknown";
}

}  // namespace haven::core
