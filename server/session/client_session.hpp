// One client's conversation with the server, free of any transport: it decodes frames,
// enforces the per-connection rules (Hello first, joined before posting, rate limits) and
// hands valid requests to its shard's Hub (rooms) and moderation desk. The rooms see it as a
// rooms::LocalSession. The WebSocket session in net/ owns one and feeds
// it frames; tests feed it directly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/token_bucket.hpp"
#include "haven.pb.h"
#include "protocol/close_codes.hpp"
#include "protocol/codec.hpp"
#include "rooms/local_session.hpp"
#include "session/connection.hpp"

namespace haven::rooms {
class Hub;
}  // namespace haven::rooms
namespace haven::moderation {
class ModerationDesk;
}  // namespace haven::moderation
namespace haven::meetings {
class MeetingDesk;
}  // namespace haven::meetings

namespace haven::session {

// What a session hands its requests to: its shard's chat objects.
struct ChatServices {
    rooms::Hub& hub;
    moderation::ModerationDesk& moderation;
    meetings::MeetingDesk& meetings;
};

class ClientSession final : public rooms::LocalSession {
public:
    // `address_key`: the client's keyed address (net/client_address.hpp); empty when unknown.
    ClientSession(ChatServices services, Connection& connection, protocol::Encoding encoding,
                  std::string address_key = {});
    ~ClientSession() override;
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;

    // Called once the WebSocket is open, and once when it has ended for any reason.
    void on_open(core::SteadyTime now);
    void on_closed();
    // One complete WebSocket message: `text` frames carry JSON, binary frames protobuf.
    void on_frame(std::string_view bytes, bool text);

    std::uint64_t id() const override { return id_; }
    protocol::Encoding encoding() const override { return encoding_; }
    bool authenticated() const override { return authenticated_; }
    core::SteadyTime hello_deadline() const override { return hello_deadline_; }
    const v1::Member& member() const override { return member_; }
    const std::string& subject() const override { return subject_; }
    const std::string& handle_key() const override { return handle_key_; }
    // Per-room grants from the token (room id -> role there).
    const std::vector<std::pair<std::string, v1::Role>>& room_roles() const override {
        return room_roles_;
    }
    const std::vector<std::string>& joined_rooms() const override { return joined_; }
    core::SteadyTime joined_at(const std::string& room_id) const override;
    const std::string& address_key() const override { return address_key_; }

    // Permissions (see the README's table). Moderators and operators moderate every room;
    // a room grant in the token makes someone a moderator of that room only.
    v1::Role role_in(const std::string& room_id) const override;
    bool can_moderate(const std::string& room_id) const override;
    bool moderates_globally() const;
    bool moderates_anything() const;

    // ---- called by the rooms (rooms::LocalSession) ---------------------------------------
    void send(const v1::ServerMessage& message) override;
    void send_frame(protocol::Frame frame) override { connection_.send(std::move(frame)); }
    void send_error(std::uint64_t request_id, v1::ErrorCode code, std::string_view message,
                    std::uint32_t retry_after_ms = 0) override;
    void deliver(const rooms::EncodedEvent& event) override;
    void send_batch(const protocol::FrameBatch& batch) override { connection_.send_batch(batch); }
    void close(protocol::CloseCode code) override { connection_.close(code); }
    // Also ends a signed-in session whose token ran out (see session/client_hello.cpp).
    void tick(core::SteadyTime now) override;
    void on_join_settled(const std::string& room_id, bool joined) override;
    void on_removed(const std::string& room_id, std::string_view reason) override;

private:
    void dispatch(const v1::ClientMessage& message);
    // ---- Hello and Refresh (session/client_hello.cpp) -----------------------------------
    // Who a Hello established, not yet admitted.
    struct Admission {
        std::string subject;
        std::string handle;
        v1::Role role = v1::ROLE_PARTICIPANT;
        std::map<std::string, v1::Role> room_roles;
        std::int64_t token_expires_at = 0;  // seconds since the epoch; 0: a guest
        bool omit_rooms = false;
        bool chose_handle = false;  // a guest's own choice or a token's name: checked
    };
    void handle_hello(std::uint64_t request_id, const v1::Hello& hello);
    void handle_refresh(std::uint64_t request_id, const v1::Refresh& refresh);
    void fail_hello(std::uint64_t request_id, v1::ErrorCode code, std::string_view why);
    // Checks the handle (reserved words, staff names), then welcomes.
    void admit(std::uint64_t request_id, Admission admission);
    void check_token_expiry(std::int64_t now_ms);
    void handle_join(std::uint64_t request_id, const v1::Join& join);
    void handle_leave(std::uint64_t request_id, const v1::Leave& leave);
    void handle_post(std::uint64_t request_id, const v1::Post& post);
    void handle_typing(const v1::Typing& typing);
    void handle_history(std::uint64_t request_id, const v1::HistoryRequest& request);
    void handle_ping(std::uint64_t request_id, const v1::Ping& ping);
    void handle_flag(std::uint64_t request_id, const v1::Flag& flag);
    void handle_moderate(std::uint64_t request_id, const v1::Moderate& moderate);
    void handle_audit(std::uint64_t request_id, const v1::AuditRequest& request);
    void handle_moderation_queue(std::uint64_t request_id);
    void handle_set_duty(std::uint64_t request_id, const v1::SetDuty& set);
    // Reach out: a moderator's private check-in, and the person's answer.
    void handle_check_in(std::uint64_t request_id, const v1::CheckIn& check_in);
    void handle_check_in_reply(std::uint64_t request_id, const v1::CheckInReply& answer);
    // A step in a meeting: hands, the floor, its course (meetings/desk/meeting_desk).
    void handle_meeting(std::uint64_t request_id, const v1::MeetingControl& control);
    // What is wrong with a private message's thread id or text, or its rate (which it takes).
    std::optional<std::pair<v1::ErrorCode, std::string>> check_private_text(
        const std::string& thread_id, const std::string& text);
    std::uint32_t retry_after_post();
    // Moderators and peer supporters (globally or in a room) may go on duty.
    bool serves_anything() const;
    // Fills `duty` for these rooms (empty: every room they serve), or says why it cannot be.
    std::optional<std::pair<v1::ErrorCode, std::string>> duty_in(
        const google::protobuf::RepeatedPtrField<std::string>& room_ids, v1::OnDuty& duty) const;
    // After a Refresh: on duty only for what the new token still allows.
    void review_duty();
    // The reason a moderation request is invalid, or nothing.
    std::optional<std::pair<v1::ErrorCode, std::string>> check_moderate(
        const v1::Moderate& moderate) const;

    // Accepts the identity and answers with Welcome.
    void welcome(std::uint64_t request_id, Admission admission);
    bool is_joined(const std::string& room_id) const;
    void forget_room(const std::string& room_id);
    // Joins and leaves share one budget; false (and RATE_LIMITED sent) when it is spent.
    bool take_join_leave(std::uint64_t request_id, std::string_view too_quickly =
                                                       "you are joining and leaving rooms too "
                                                       "quickly");
    bool is_pending(const std::string& room_id) const;

    rooms::Hub& hub_;
    moderation::ModerationDesk& moderation_;
    meetings::MeetingDesk& meetings_;
    Connection& connection_;
    const protocol::Encoding encoding_;
    const std::uint64_t id_;
    bool open_ = false;
    bool authenticated_ = false;
    bool hello_pending_ = false;  // a Hello waits for its handle check
    unsigned failed_hellos_ = 0;
    core::SteadyTime hello_deadline_{};
    // Signed-in sessions: when the token stops being valid (its exp and the verifier's
    // leeway), in ms; 0 for guests. TokenExpiring goes out once, ahead of it.
    std::int64_t token_ends_at_ms_ = 0;
    bool expiry_notice_sent_ = false;
    std::string subject_;
    std::string handle_key_;
    v1::Member member_;  // role: the global role
    // Per-room grants from the token: few, often none; a vector is the smallest to hold.
    std::vector<std::pair<std::string, v1::Role>> room_roles_;
    std::vector<std::string> joined_;          // rooms this session is a member of
    std::vector<core::SteadyTime> joined_at_;  // when each of joined_ was joined
    std::vector<std::string> pending_;         // joins sent to the owner shard, not yet answered
    bool on_duty_ = false;
    std::vector<std::string> duty_rooms_;  // as asked for (empty: every room they serve)
    std::string address_key_;              // cleared at Welcome for signed-in people
    core::TokenBucket post_budget_;
    core::TokenBucket typing_budget_;
    core::TokenBucket join_leave_budget_;
    core::TokenBucket history_budget_;  // events, not requests
};

}  // namespace haven::session
