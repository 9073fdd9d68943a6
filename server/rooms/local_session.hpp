// A client session on this shard, as the rooms see it: who it is, where its messages go, and
// the two outcomes it is told about. The session layer (session/client_session) implements it;
// the rooms never see the session's protocol handling or its transport.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "haven.pb.h"
#include "protocol/close_codes.hpp"
#include "protocol/codec.hpp"
#include "protocol/frame_batch.hpp"
#include "rooms/encoded_event.hpp"

namespace haven::rooms {

class LocalSession {
public:
    virtual ~LocalSession() = default;

    // ---- who it is -----------------------------------------------------------------------
    virtual std::uint64_t id() const = 0;
    virtual const v1::Member& member() const = 0;  // role: the global role
    virtual const std::string& subject() const = 0;
    // auth::handle_key of the handle: no two people in a room share one.
    virtual const std::string& handle_key() const = 0;
    virtual protocol::Encoding encoding() const = 0;
    virtual v1::Role role_in(const std::string& room_id) const = 0;
    virtual bool can_moderate(const std::string& room_id) const = 0;
    // Per-room grants from the token (room id -> role there).
    virtual const std::vector<std::pair<std::string, v1::Role>>& room_roles() const = 0;
    virtual const std::vector<std::string>& joined_rooms() const = 0;
    // When the session's join of `room_id` was accepted (the epoch when it is not a member).
    virtual core::SteadyTime joined_at(const std::string& room_id) const = 0;
    // A keyed hash of the client's address (net/client_address.hpp), for address bans;
    // empty when not known.
    virtual const std::string& address_key() const = 0;
    virtual bool authenticated() const = 0;
    virtual core::SteadyTime hello_deadline() const = 0;

    // ---- what it is sent (never calls back into the rooms) --------------------------------
    virtual void send(const v1::ServerMessage& message) = 0;
    virtual void send_frame(protocol::Frame frame) = 0;
    virtual void send_error(std::uint64_t request_id, v1::ErrorCode code, std::string_view message,
                            std::uint32_t retry_after_ms = 0) = 0;
    virtual void deliver(const EncodedEvent& event) = 0;
    virtual void send_batch(const protocol::FrameBatch& batch) = 0;
    virtual void close(protocol::CloseCode code) = 0;
    // Housekeeping from the shard's sweep.
    virtual void tick(core::SteadyTime now) = 0;

    // ---- outcomes ------------------------------------------------------------------------
    // The owner shard answered a Join: `joined` says whether the session is now a member.
    virtual void on_join_settled(const std::string& room_id, bool joined) = 0;
    // A moderator removed this session from a room: it is no longer a member.
    virtual void on_removed(const std::string& room_id, std::string_view reason) = 0;
};

}  // namespace haven::rooms
