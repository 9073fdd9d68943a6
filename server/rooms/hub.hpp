// The local side of a shard: the sessions this shard holds and, per room, which of them are
// members here, so an event reaching this shard is written to its local members only. Requests
// from the sessions are handed to the room's owner shard (rooms/room_owner); what comes back
// (replies, a settled join, a removal) arrives here as tasks carrying session ids, never
// pointers.
//
// Executor: this shard's. Every member function runs there (checked, core/shard_identity).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/server_context.hpp"
#include "core/shard_identity.hpp"
#include "core/shard_router.hpp"
#include "core/spawn.hpp"
#include "haven.pb.h"
#include "moderation/duty_roster.hpp"
#include "moderation/moderation_state.hpp"
#include "protocol/close_codes.hpp"
#include "rooms/encoded_event.hpp"
#include "rooms/local_session.hpp"
#include "rooms/room_fanout.hpp"
#include "rooms/room_list_encoder.hpp"

namespace haven::rooms {

class RoomOwner;
class ServerWide;

// The subject under which a staff member's name is remembered (see record_role). Tokens with
// a subject of this form are refused.
inline constexpr std::string_view kStaffNameSubjectPrefix = "staff-name:";

class Hub final {
public:
    Hub(unsigned shard, core::ServerContext& context, core::ShardRouter& router);

    // Wiring, before the shards start.
    void connect(std::vector<RoomOwner*> owners, ServerWide& server_wide);
    // After the shards have stopped: sessions destroyed during teardown must not post to
    // event loops that may already be gone.
    void stop_routing() {
        routing_ = false;
        fanout_.discard();  // nobody is left to write to
    }
    bool routing() const { return routing_; }

    unsigned shard() const { return shard_; }
    void check_owner() const { core::check_owner(shard_, "rooms::Hub"); }
    core::ServerContext& context() { return context_; }
    const RoomListEncoder& room_list() const { return room_list_; }
    core::ShardCounters& counters() { return counters_; }

    // ---- called by this shard's sessions -----------------------------------------------
    std::uint64_t next_session_id() { return (std::uint64_t{shard_} << 48) | ++session_counter_; }
    std::string session_name(std::uint64_t session_id) const;
    void add_session(LocalSession& session);
    // Leaves every room the session is in; the session must not be used by the Hub after.
    void remove_session(LocalSession& session);
    void join(LocalSession& session, std::uint64_t request_id, const v1::Join& join);
    void leave(LocalSession& session, std::uint64_t request_id, const std::string& room_id);
    void post(LocalSession& session, std::uint64_t request_id, const v1::Post& post);
    void typing(LocalSession& session, const v1::Typing& typing);
    void history(LocalSession& session, std::uint64_t request_id,
                 const v1::HistoryRequest& request);
    // A session that moderates anything gets the moderation items of its rooms.
    void add_moderator(LocalSession& session);
    // It no longer moderates anything (a refreshed token took the role away).
    void remove_moderator(LocalSession& session);
    // Remembers a signed-in person's roles server-wide, for actions that name them later;
    // for staff, their name too (`staff_name_key`: auth::loose_handle_key of their handle), so
    // nobody else can take it.
    void record_role(const LocalSession& session, const std::string& staff_name_key);
    // Asks every instance's memory whether a member of staff other than `subject` goes by
    // `name_key` (a loose_handle_key). `done` runs on this shard only while the session is still
    // here, with nothing when the broker could not be asked.
    using StaffNameCallback = std::function<void(std::optional<bool> staff_name)>;
    void check_staff_name(const LocalSession& session, const std::string& subject,
                          std::string name_key, StaffNameCallback done);
    // On duty (`duty`: the rooms, filled in by the session) or off duty; a session that goes
    // away while on duty must call go_off_duty.
    void go_on_duty(const LocalSession& session, v1::OnDuty duty);
    void go_off_duty(const LocalSession& session);
    // Who is on duty in the whole deployment, as shard 0 last told this shard.
    const moderation::DutySnapshot& duty() const { return *duty_; }
    // Banned from every room, by who they are or (a guest) the address they come from.
    bool globally_banned(const std::string& subject,
                         const std::string& address_key = moderation::kNoAddressKey) const;

    // ---- called by owner shards (through posted tasks) ----------------------------------
    LocalSession* find_session(std::uint64_t session_id);
    // The owner admitted the session: it is a member here from now on, and gets `joined`.
    void hand_over_join(const std::string& room_id, std::uint64_t session_id,
                        const protocol::Frame& joined);
    // The session is out of the room: a moderator removed it, or the room closed.
    enum class Removal { kicked, banned, room_closed };
    void remove_from_room(const std::string& room_id, std::uint64_t session_id, Removal why);
    void deliver_local(std::shared_ptr<const EncodedEvent> event);

    // ---- called by the server-wide state (rooms/server_wide) ----------------------------
    void load_global_bans(const moderation::StateFields& fields) { global_bans_.load(fields); }
    // A global ban or unban: kept, and a banned person's sessions here are closed.
    void apply_global(const v1::Event& event);
    void deliver_item(const v1::ModerationItem& item);
    // A private message (reach out) for every session here of its addressee.
    void deliver_private(const v1::PrivateNote& note);
    // A new on-duty roster (rooms/duty_board): kept, and pushed to the moderators here.
    void set_duty(std::shared_ptr<const moderation::DutySnapshot> duty);
    // A room opened at run time has closed: its owner shard sends its members here away.
    void close_room(const std::string& room_id);

    // ---- housekeeping --------------------------------------------------------------------
    // Closes sessions that did not say Hello in time; lets transports ping.
    void sweep(core::SteadyTime now);
    // Draining: asks every local session to reconnect (to another instance) after a random
    // delay of up to `spread_ms`, so they do not all arrive there at once.
    void ask_to_reconnect(std::uint32_t spread_ms);
    // Closes every local session (shutdown).
    void close_all(protocol::CloseCode code);
    std::size_t session_count() const { return sessions_.size(); }

private:
    // Runs `task` on the RoomOwner of `room_id`'s owner shard.
    template <class Task>
    void on_owner(const std::string& room_id, Task task);
    void drop_local_member(const std::string& room_id, LocalSession& session);
    core::Awaitable<void> staff_name_flow(std::uint64_t session_id, std::string name_subject,
                                          std::string own_subject, StaffNameCallback done);

    unsigned shard_;
    core::ServerContext& context_;
    core::ShardRouter& router_;
    core::ShardCounters& counters_;
    RoomListEncoder room_list_;
    std::vector<RoomOwner*> owners_;
    ServerWide* server_wide_ = nullptr;
    std::uint64_t session_counter_ = 0;
    bool routing_ = true;

    std::unordered_map<std::uint64_t, LocalSession*> sessions_;
    RoomFanout::Members local_members_;
    RoomFanout fanout_;                      // events on their way to local_members_
    std::vector<LocalSession*> moderators_;  // local sessions that moderate anything
    moderation::GlobalBans global_bans_;     // this shard's copy
    std::shared_ptr<const moderation::DutySnapshot> duty_ =
        std::make_shared<const moderation::DutySnapshot>();
};

}  // namespace haven::rooms
