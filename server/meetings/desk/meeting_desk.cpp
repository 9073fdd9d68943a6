#include "meetings/desk/meeting_desk.hpp"

#include "core/clock.hpp"
#include "meetings/meeting_clock.hpp"
#include "meetings/meeting_store.hpp"
#include "rooms/room_owner.hpp"

namespace haven::meetings {
namespace {

// Steps taken at once on other instances each cost one more read: twenty people raising their
// hands in the same instant are settled in at most twenty rounds.
constexpr int kAttempts = 64;

const MeetingSchedule* schedule_of(const rooms::Room& room) {
    return room.schedule() ? &*room.schedule() : nullptr;
}

}  // namespace

void MeetingDesk::check_owner() const {
    owner_.check_owner();
}

void MeetingDesk::control(const rooms::LocalSession& session, std::uint64_t request_id,
                          const v1::MeetingControl& control) {
    const rooms::ReplyTo reply{owner_.shard(), session.id(), request_id};
    MeetingDesk* desk = desks_[owner_.context().directory.owner_shard(control.room_id())];
    owner_.replies().to_shard(desk->owner_.shard(), [desk, control, reply](rooms::Hub&) {
        core::spawn(desk->owner_.loop(), desk->control_flow(control, reply));
    });
}

core::Awaitable<void> MeetingDesk::control_flow(v1::MeetingControl control, rooms::ReplyTo reply) {
    check_owner();
    const rooms::Replies& replies = owner_.replies();
    const rooms::RoomRef config = owner_.context().directory.find(control.room_id());
    if (config == nullptr) co_return replies.error(reply, v1::UNKNOWN_ROOM, "no such room");
    if (config->kind != config::RoomKind::meeting) {
        co_return replies.error(reply, v1::BAD_REQUEST, "this room is not a meeting");
    }
    std::shared_ptr<rooms::Room> room = owner_.room(config);
    const rooms::MemberRecord* asking = room->find(reply.session_id);
    if (asking == nullptr) co_return replies.error(reply, v1::NOT_JOINED, "join the room first");
    const FloorActor actor{asking->member, asking->subject,
                           asking->member.role() >= v1::ROLE_PEER_SUPPORTER};
    const Step step = [&](const v1::MeetingState& current, const MeetingNow& now,
                          std::uint64_t now_ms) {
        const FloorContext context{room->config().floor, now, now_ms,
                                   room->presence.members_by_arrival(), room->config().capacity};
        return apply_control(current, control, actor, context);
    };
    const Outcome outcome = co_await change(room, step);
    if (outcome.unavailable) co_return replies.unavailable(reply, "try again in a moment");
    if (const auto* refused = std::get_if<FloorRefusal>(&outcome.step)) {
        co_return replies.error(reply, refused->code, refused->message);
    }
    replies.ack(reply, control.room_id(), outcome.seq);
}

core::Awaitable<MeetingDesk::Outcome> MeetingDesk::change(std::shared_ptr<rooms::Room>& room,
                                                          const Step& step) {
    check_owner();
    const std::string room_id = room->config().id;
    if (!co_await owner_.load_moderation(*room)) co_return Outcome{Unchanged{}, 0, true};
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        const std::uint64_t now_ms = core::wall_ms();
        const MeetingNow now = meeting_now(schedule_of(*room), room->meeting, now_ms);
        FloorStep next = step(state_for(room->meeting, now), now, now_ms);
        const auto* state = std::get_if<v1::MeetingState>(&next);
        if (state == nullptr) co_return Outcome{std::move(next)};
        auto event = std::make_unique<v1::Event>();
        event->set_room_id(room_id);
        *event->mutable_meeting() = *state;
        moderation::StateChange stored = store_meeting(*state, room->meeting.version());
        broker::Result<broker::Published> published =
            co_await owner_.async_broker().publish_with_state(std::move(event), std::move(stored));
        if (published) {
            // Known here at once, not only when the event comes back through the broker: the
            // next step asked of this instance starts from it.
            keep_newer(room->meeting, *state);
            co_return Outcome{std::move(next), published->seq};
        }
        if (published.error().reason != broker::Failure::Reason::conflict) {
            co_return Outcome{Unchanged{}, 0, true};
        }
        // Another step was stored first: start again from the state as it is now.
        broker::Result<moderation::StateFields> fields =
            co_await owner_.async_broker().read_state(room_id);
        if (!fields) co_return Outcome{Unchanged{}, 0, true};
        keep_newer(room->meeting, load_meeting(*fields));
    }
    co_return Outcome{Unchanged{}, 0, true};
}

void MeetingDesk::sweep(std::uint64_t now_ms) {
    check_owner();
    std::unordered_map<std::string, Absences> still;
    owner_.for_each_room([&](const std::shared_ptr<rooms::Room>& room) {
        if (room->config().kind != config::RoomKind::meeting || room->empty() ||
            !room->presence.known()) {
            return;
        }
        const std::string& id = room->config().id;
        Absences& absences = still[id] = std::move(absences_[id]);
        const Attendance attendance = attendance_of(*room);
        note_absences(room->meeting, attendance, now_ms, absences);
        const MeetingNow now = meeting_now(schedule_of(*room), room->meeting, now_ms);
        if (tending_.count(id) == 0 && tend(state_for(room->meeting, now), now, attendance,
                                            absences, room->config().floor, now_ms)) {
            tending_.insert(id);
            core::spawn(owner_.loop(), tend_flow(room, absences));
        }
    });
    absences_ = std::move(still);  // rooms no longer served here are forgotten
}

Attendance MeetingDesk::attendance_of(const rooms::Room& room) {
    Attendance attendance;
    attendance.present = room.presence.members();
    for (const std::uint64_t session : room.session_ids()) {
        if (const rooms::MemberRecord* record = room.find(session)) {
            attendance.local.emplace_back(record->subject, record->member);
        }
    }
    return attendance;
}

core::Awaitable<void> MeetingDesk::tend_flow(std::shared_ptr<rooms::Room> room, Absences absences) {
    // Every instance with members sweeps: whichever stores the step first publishes it, the
    // others find it done when they read the state again. The absences are the sweep's: this
    // flow may run on while the next sweep notes newer ones.
    const std::string id = room->config().id;
    const Step step = [&](const v1::MeetingState& current, const MeetingNow& now,
                          std::uint64_t now_ms) -> FloorStep {
        if (auto next =
                tend(current, now, attendance_of(*room), absences, room->config().floor, now_ms)) {
            return *next;
        }
        return Unchanged{};
    };
    co_await change(room, step);
    tending_.erase(id);
}

}  // namespace haven::meetings
