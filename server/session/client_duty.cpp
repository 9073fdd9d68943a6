// Going on duty and off duty (SetDuty): which rooms a moderator or peer supporter serves, kept
// in the deployment's roster (rooms/duty_board) while the session lasts. Part of ClientSession.
#include <algorithm>

#include "core/clock.hpp"
#include "moderation/duty_roster.hpp"
#include "rooms/hub.hpp"
#include "rooms/room_directory.hpp"
#include "session/client_session.hpp"

namespace haven::session {
namespace {

constexpr std::size_t kMaxDutyRooms = 64;
constexpr std::size_t kMaxRoomIdBytes = 64;

}  // namespace

bool ClientSession::serves_anything() const {
    if (member_.role() >= v1::ROLE_PEER_SUPPORTER) return true;
    return std::any_of(room_roles_.begin(), room_roles_.end(),
                       [](const auto& grant) { return grant.second >= v1::ROLE_PEER_SUPPORTER; });
}

std::optional<std::pair<v1::ErrorCode, std::string>> ClientSession::duty_in(
    const google::protobuf::RepeatedPtrField<std::string>& room_ids, v1::OnDuty& duty) const {
    duty.set_handle(member_.handle());
    duty.set_role(member_.role());
    if (room_ids.empty()) {
        // Every room they may serve: all of them for global staff, else their grants.
        duty.set_everywhere(member_.role() >= v1::ROLE_PEER_SUPPORTER);
        for (const auto& [room_id, role] : room_roles_) {
            if (role_in(room_id) >= v1::ROLE_PEER_SUPPORTER)
                moderation::add_once(*duty.mutable_room_ids(), room_id);
            if (can_moderate(room_id)) moderation::add_once(*duty.mutable_moderates(), room_id);
        }
        if (duty.everywhere() || !duty.room_ids().empty()) return std::nullopt;
        return std::pair{v1::FORBIDDEN, std::string("you serve no room")};
    }
    if (room_ids.size() > static_cast<int>(kMaxDutyRooms)) {
        return std::pair{v1::BAD_REQUEST,
                         "at most " + std::to_string(kMaxDutyRooms) + " rooms at once"};
    }
    for (const std::string& room_id : room_ids) {
        if (room_id.empty() || room_id.size() > kMaxRoomIdBytes ||
            hub_.context().directory.find(room_id) == nullptr) {
            return std::pair{v1::UNKNOWN_ROOM, std::string("no such room")};
        }
        if (role_in(room_id) < v1::ROLE_PEER_SUPPORTER) {
            return std::pair{v1::FORBIDDEN,
                             "only moderators and peer supporters of a room serve it: " + room_id};
        }
        moderation::add_once(*duty.mutable_room_ids(), room_id);
        if (can_moderate(room_id)) moderation::add_once(*duty.mutable_moderates(), room_id);
    }
    return std::nullopt;
}

void ClientSession::handle_set_duty(std::uint64_t request_id, const v1::SetDuty& set) {
    if (!serves_anything()) {
        return send_error(request_id, v1::FORBIDDEN,
                          "only moderators and peer supporters go on duty");
    }
    // Every change reaches every moderator everywhere: it shares the join and leave budget.
    if (!take_join_leave(request_id, "you are going on and off duty too quickly")) return;
    v1::OnDuty duty;
    if (set.on_duty()) {
        if (auto problem = duty_in(set.room_ids(), duty)) {
            return send_error(request_id, problem->first, problem->second);
        }
        duty.set_since_ms(core::wall_ms());
        duty_rooms_.assign(set.room_ids().begin(), set.room_ids().end());
        on_duty_ = true;
        hub_.go_on_duty(*this, duty);
    } else if (on_duty_) {
        on_duty_ = false;
        hub_.go_off_duty(*this);
    }
    // The roster as it will be once shard 0 has it (the push to moderators follows).
    v1::ServerMessage message;
    message.set_request_id(request_id);
    v1::DutyRoster* roster = message.mutable_duty_roster();
    for (const v1::OnDuty& other : hub_.duty().roster.on_duty()) {
        if (other.handle() != member_.handle()) *roster->add_on_duty() = other;
    }
    if (on_duty_) *roster->add_on_duty() = std::move(duty);
    send(message);
}

void ClientSession::review_duty() {
    if (!on_duty_) return;
    google::protobuf::RepeatedPtrField<std::string> rooms(duty_rooms_.begin(), duty_rooms_.end());
    v1::OnDuty duty;
    if (!serves_anything() || duty_in(rooms, duty)) {
        // The new token took away what they were on duty for.
        on_duty_ = false;
        return hub_.go_off_duty(*this);
    }
    hub_.go_on_duty(*this, std::move(duty));
}

}  // namespace haven::session
