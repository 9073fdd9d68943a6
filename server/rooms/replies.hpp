// Answers to a session's requests, from whichever shard has them to the session's own shard:
// errors, acks, alerts and whole messages. A ReplyTo with session id 0 (nobody waits) and a
// session that has gone since are both simply not answered.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/shard_router.hpp"
#include "haven.pb.h"
#include "protocol/codec.hpp"
#include "rooms/hub.hpp"
#include "rooms/reply_to.hpp"

namespace haven::rooms {

class Replies {
public:
    Replies(core::ShardRouter& router, const std::vector<Hub*>& hubs)
        : router_(router), hubs_(hubs) {}

    // Runs `task(hub, session)` on the session's shard while the session exists there.
    template <class Task>
    void to_session(const ReplyTo& to, Task task) const {
        if (to.session_id == 0) return;
        Hub* home = hubs_[to.shard];
        if (!home->routing()) return;
        router_.post(to.shard, [home, id = to.session_id, task = std::move(task)]() mutable {
            if (LocalSession* session = home->find_session(id)) task(*home, *session);
        });
    }
    // Runs `task(hub)` on `shard`.
    template <class Task>
    void to_shard(unsigned shard, Task task) const {
        Hub* home = hubs_[shard];
        if (!home->routing()) return;
        router_.post(shard, [home, task = std::move(task)]() mutable { task(*home); });
    }

    void error(const ReplyTo& to, v1::ErrorCode code, std::string message,
               std::uint32_t retry_after_ms = 0) const {
        to_session(to, [code, message = std::move(message), retry_after_ms,
                        request = to.request_id](Hub&, LocalSession& session) {
            session.send_error(request, code, message, retry_after_ms);
        });
    }
    // The broker could not be reached: the client may try again in a second.
    void unavailable(const ReplyTo& to, std::string message) const {
        error(to, v1::UNAVAILABLE, std::move(message), 1000);
    }
    void ack(const ReplyTo& to, v1::Ack ack) const {
        v1::ServerMessage out;
        *out.mutable_ack() = std::move(ack);
        message(to, std::move(out));
    }
    void ack(const ReplyTo& to, const std::string& room_id, std::uint64_t seq) const {
        v1::Ack out;
        out.set_room_id(room_id);
        out.set_seq(seq);
        ack(to, std::move(out));
    }
    // Alerts answer no request: they go to the session whatever request id `to` carries.
    void alert(const ReplyTo& to, v1::Alert alert) const {
        v1::ServerMessage out;
        *out.mutable_alert() = std::move(alert);
        to_session(to, [out = std::move(out)](Hub&, LocalSession& session) { session.send(out); });
    }
    // `out` answers the request: its request id is set here.
    void message(const ReplyTo& to, v1::ServerMessage out) const {
        out.set_request_id(to.request_id);
        to_session(to, [out = std::move(out)](Hub&, LocalSession& session) { session.send(out); });
    }
    // An answer encoded already (in the session's encoding).
    void frame(const ReplyTo& to, protocol::Frame frame) const {
        to_session(to, [frame = std::move(frame)](Hub&, LocalSession& session) {
            session.send_frame(frame);
        });
    }

private:
    core::ShardRouter& router_;
    const std::vector<Hub*>& hubs_;
};

}  // namespace haven::rooms
