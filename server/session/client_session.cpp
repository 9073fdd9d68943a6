// One client's conversation (see the header). Over 400 lines: one handler per request type, each
// short, with the checks every request of that type must pass written next to it.
#include "session/client_session.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "meetings/desk/meeting_desk.hpp"
#include "moderation/desk/moderation_desk.hpp"
#include "moderation/desk/target_role.hpp"
#include "protocol/utf8.hpp"
#include "rooms/hub.hpp"

namespace haven::session {
namespace {

constexpr std::size_t kMaxClientMsgIdBytes = 64;
// An alert id names its room (up to 64 bytes) and the post: well under this.
constexpr std::size_t kMaxThreadIdBytes = 200;
constexpr std::size_t kMaxContentWarningChars = 100;
constexpr std::size_t kMaxFlagNoteChars = 500;
constexpr std::size_t kMaxReasonChars = 500;
// Item ids name a room and a post or hold ("crisis:<room>:<seq>"): room ids are short.
constexpr std::size_t kMaxItemIdBytes = 256;
constexpr std::uint32_t kMaxAuditPage = 200;
constexpr std::size_t kMaxRoomIdBytes = 64;
// Typing indicators are cosmetic; a few per second per session is plenty.
constexpr double kTypingPerSecond = 2.0;
constexpr double kTypingBurst = 4.0;

}  // namespace

ClientSession::ClientSession(ChatServices services, Connection& connection,
                             protocol::Encoding encoding, std::string address_key)
    : hub_(services.hub),
      moderation_(services.moderation),
      meetings_(services.meetings),
      connection_(connection),
      encoding_(encoding),
      id_(hub_.next_session_id()),
      address_key_(std::move(address_key)),
      post_budget_(hub_.context().config.limits.posts_per_second,
                   hub_.context().config.limits.post_burst),
      typing_budget_(kTypingPerSecond, kTypingBurst),
      join_leave_budget_(hub_.context().config.limits.join_leave_per_second,
                         hub_.context().config.limits.join_leave_burst),
      history_budget_(hub_.context().config.limits.history_events_per_minute / 60.0,
                      hub_.context().config.limits.history_events_per_minute) {}

ClientSession::~ClientSession() {
    on_closed();
}

void ClientSession::on_open(core::SteadyTime now) {
    open_ = true;
    hello_deadline_ =
        now + std::chrono::milliseconds(hub_.context().config.limits.hello_timeout_ms);
    hub_.add_session(*this);
}

void ClientSession::on_closed() {
    if (!open_) return;
    open_ = false;
    if (on_duty_) hub_.go_off_duty(*this);
    on_duty_ = false;
    hub_.remove_session(*this);
    joined_.clear();
    joined_at_.clear();
    pending_.clear();
}

void ClientSession::on_frame(std::string_view bytes, bool text) {
    if (!open_) return;
    auto& counters = hub_.counters();
    counters.add(counters.frames_in);
    v1::ClientMessage message;
    const auto encoding = text ? protocol::Encoding::json : protocol::Encoding::binary;
    if (!protocol::decode_client(bytes, encoding, message)) {
        counters.add(counters.bad_frames);
        send_error(0, v1::BAD_FRAME,
                   text ? "the frame is not a valid JSON ClientMessage"
                        : "the frame is not a valid protobuf ClientMessage");
        return;
    }
    dispatch(message);
}

void ClientSession::dispatch(const v1::ClientMessage& message) {
    const std::uint64_t request = message.request_id();
    using Body = v1::ClientMessage::BodyCase;
    switch (message.body_case()) {
        case Body::kHello:
            return handle_hello(request, message.hello());

        case Body::kPing:
            return handle_ping(request, message.ping());
        case Body::BODY_NOT_SET:
            return send_error(request, v1::UNKNOWN_MESSAGE,
                              "the message has no body this server understands");
        default:
            break;
    }
    if (!authenticated_) return send_error(request, v1::NOT_AUTHENTICATED, "send Hello first");
    switch (message.body_case()) {
        case Body::kJoin:
            return handle_join(request, message.join());
        case Body::kRefresh:
            return handle_refresh(request, message.refresh());
        case Body::kLeave:
            return handle_leave(request, message.leave());
        case Body::kPost:
            return handle_post(request, message.post());
        case Body::kTyping:
            return handle_typing(message.typing());
        case Body::kHistory:
            return handle_history(request, message.history());
        case Body::kFlag:
            return handle_flag(request, message.flag());
        case Body::kModerate:
            return handle_moderate(request, message.moderate());
        case Body::kAudit:
            return handle_audit(request, message.audit());
        case Body::kModerationQueue:
            return handle_moderation_queue(request);
        case Body::kSetDuty:
            return handle_set_duty(request, message.set_duty());
        case Body::kCheckIn:
            return handle_check_in(request, message.check_in());
        case Body::kCheckInReply:
            return handle_check_in_reply(request, message.check_in_reply());
        case Body::kMeeting:
            return handle_meeting(request, message.meeting());
        default:
            return send_error(request, v1::UNKNOWN_MESSAGE,
                              "the message has no body this server understands");
    }
}

v1::Role ClientSession::role_in(const std::string& room_id) const {
    auto grant = std::find_if(room_roles_.begin(), room_roles_.end(),
                              [&](const auto& entry) { return entry.first == room_id; });
    if (grant == room_roles_.end()) return member_.role();
    return std::max(grant->second, member_.role());
}

bool ClientSession::can_moderate(const std::string& room_id) const {
    return role_in(room_id) >= v1::ROLE_MODERATOR;
}

bool ClientSession::moderates_globally() const {
    return member_.role() >= v1::ROLE_MODERATOR;
}

bool ClientSession::moderates_anything() const {
    if (moderates_globally()) return true;
    for (const auto& [room_id, role] : room_roles_) {
        if (role >= v1::ROLE_MODERATOR) return true;
    }
    return false;
}

bool ClientSession::is_joined(const std::string& room_id) const {
    return std::find(joined_.begin(), joined_.end(), room_id) != joined_.end();
}

core::SteadyTime ClientSession::joined_at(const std::string& room_id) const {
    const auto found = std::find(joined_.begin(), joined_.end(), room_id);
    if (found == joined_.end()) return core::SteadyTime{};
    return joined_at_[static_cast<std::size_t>(found - joined_.begin())];
}

void ClientSession::forget_room(const std::string& room_id) {
    const auto found = std::find(joined_.begin(), joined_.end(), room_id);
    if (found == joined_.end()) return;
    joined_at_.erase(joined_at_.begin() + (found - joined_.begin()));
    joined_.erase(found);
}

bool ClientSession::take_join_leave(std::uint64_t request_id, std::string_view too_quickly) {
    const auto now = core::steady_now();
    if (join_leave_budget_.try_take(now)) return true;
    hub_.counters().refuse(core::Refusal::join_leave_rate);
    const auto wait = join_leave_budget_.wait_time(now);
    send_error(request_id, v1::RATE_LIMITED, too_quickly, static_cast<std::uint32_t>(wait.count()));
    return false;
}

bool ClientSession::is_pending(const std::string& room_id) const {
    return std::find(pending_.begin(), pending_.end(), room_id) != pending_.end();
}

void ClientSession::handle_join(std::uint64_t request_id, const v1::Join& join) {
    const std::string& room_id = join.room_id();
    if (room_id.empty() || room_id.size() > kMaxRoomIdBytes) {
        return send_error(request_id, v1::BAD_REQUEST, "room_id is required");
    }
    const rooms::RoomRef room = hub_.context().directory.find(room_id);
    if (room == nullptr) return send_error(request_id, v1::UNKNOWN_ROOM, "no such room");
    if (!room->guests && moderation::is_guest_subject(subject_)) {
        return send_error(request_id, v1::SIGN_IN_REQUIRED, "sign in to join this room");
    }
    if (is_joined(room_id) || is_pending(room_id)) {
        return send_error(request_id, v1::ALREADY_JOINED, "already in this room");
    }
    // A meeting's agreements: accepted with each Join, by everyone but its facilitators and
    // moderators, who hold them.
    if (room->agreements && role_in(room_id) < v1::ROLE_PEER_SUPPORTER) {
        if (join.accept_agreements() != room->agreements->version) {
            v1::ServerMessage refusal;
            refusal.set_request_id(request_id);
            v1::Error& error = *refusal.mutable_error();
            error.set_code(v1::AGREEMENTS_REQUIRED);
            error.set_message("read and accept the meeting's agreements to join");
            error.mutable_agreements()->set_version(room->agreements->version);
            error.mutable_agreements()->set_text(room->agreements->text);
            return send(refusal);
        }
        moderation_.agreements_accepted(*this, room_id, room->agreements->version);
    }
    if (joined_.size() + pending_.size() >= hub_.context().config.limits.max_rooms_per_session) {
        return send_error(request_id, v1::TOO_MANY_ROOMS, "leave a room before joining another");
    }
    // Every member of the room sees each join and leave: churn is charged.
    if (!take_join_leave(request_id)) return;
    pending_.push_back(room_id);
    hub_.join(*this, request_id, join);
}

void ClientSession::on_join_settled(const std::string& room_id, bool joined) {
    pending_.erase(std::remove(pending_.begin(), pending_.end(), room_id), pending_.end());
    if (pending_.empty()) pending_.shrink_to_fit();  // most sessions stay joined, idle, for long
    if (!joined) return;
    joined_.push_back(room_id);
    joined_at_.push_back(core::steady_now());
}

void ClientSession::on_removed(const std::string& room_id, std::string_view reason) {
    if (!is_joined(room_id)) return;
    forget_room(room_id);
    v1::ServerMessage message;
    message.mutable_left()->set_room_id(room_id);
    message.mutable_left()->set_reason(std::string(reason));
    send(message);
}

void ClientSession::handle_flag(std::uint64_t request_id, const v1::Flag& flag) {
    if (!is_joined(flag.room_id())) {
        return send_error(request_id, v1::NOT_JOINED, "join the room first");
    }
    if (flag.seq() == 0 || flag.reason() == v1::FLAG_REASON_UNSPECIFIED ||
        !v1::FlagReason_IsValid(flag.reason())) {
        return send_error(request_id, v1::BAD_REQUEST, "a flag needs the post's seq and a reason");
    }
    const auto note_length = protocol::utf8_length(flag.note());
    if (!note_length || *note_length > kMaxFlagNoteChars) {
        return send_error(request_id, v1::BAD_REQUEST, "the note is longer than 500 characters");
    }
    moderation_.flag(*this, request_id, flag);
}

std::optional<std::pair<v1::ErrorCode, std::string>> ClientSession::check_moderate(
    const v1::Moderate& m) const {
    using Problem = std::pair<v1::ErrorCode, std::string>;
    if (hub_.context().directory.find(m.room_id()) == nullptr) {
        return Problem{v1::UNKNOWN_ROOM, "no such room"};
    }
    if (!can_moderate(m.room_id())) {
        return Problem{v1::FORBIDDEN, "only moderators of this room may do that"};
    }
    if (m.global() && !moderates_globally()) {
        return Problem{v1::FORBIDDEN, "only global moderators may ban across every room"};
    }
    const auto reason_length = protocol::utf8_length(m.reason());
    if (!reason_length || *reason_length > kMaxReasonChars) {
        return Problem{v1::BAD_REQUEST, "the reason is longer than 500 characters"};
    }
    switch (m.action()) {
        case v1::HIDE_POST:
        case v1::RESTORE_POST:
        case v1::RESOLVE_FLAGS:
            if (m.seq() == 0) return Problem{v1::BAD_REQUEST, "this action needs the post's seq"};
            break;
        case v1::MUTE:
        case v1::KICK:
        case v1::BAN:
            if (*reason_length == 0) {
                return Problem{v1::BAD_REQUEST, "say why: a reason is required for this action"};
            }
            [[fallthrough]];
        case v1::UNMUTE:
        case v1::UNBAN:
            if (m.member_id().empty() && m.subject().empty()) {
                return Problem{v1::BAD_REQUEST, "this action needs a member_id or subject"};
            }
            break;
        case v1::RELEASE_POST:
        case v1::REJECT_POST:
            if (m.hold_id().empty()) return Problem{v1::BAD_REQUEST, "this action needs a hold_id"};
            break;
        case v1::LOCK_ROOM:
        case v1::UNLOCK_ROOM:
            break;
        case v1::CLAIM_ITEM:
        case v1::RESOLVE_ITEM:
            if (m.item_id().empty() || m.item_id().size() > kMaxItemIdBytes) {
                return Problem{v1::BAD_REQUEST, "this action needs the item's item_id"};
            }
            if (m.action() == v1::RESOLVE_ITEM && m.outcome() == v1::ALERT_OUTCOME_UNSPECIFIED) {
                return Problem{v1::BAD_REQUEST, "say how it ended: an outcome is required"};
            }
            break;
        case v1::SET_SLOW_MODE:
            if (m.slow_mode_seconds() > 3600) {
                return Problem{v1::BAD_REQUEST, "slow mode is at most 3600 seconds"};
            }
            break;
        default:
            return Problem{v1::BAD_REQUEST, "unknown moderation action"};
    }
    return std::nullopt;
}

void ClientSession::handle_moderate(std::uint64_t request_id, const v1::Moderate& moderate) {
    if (auto problem = check_moderate(moderate)) {
        return send_error(request_id, problem->first, problem->second);
    }
    moderation_.moderate(*this, request_id, moderate);
}

void ClientSession::handle_audit(std::uint64_t request_id, const v1::AuditRequest& request) {
    const bool allowed =
        request.room_id().empty() ? moderates_globally() : can_moderate(request.room_id());
    if (!allowed)
        return send_error(request_id, v1::FORBIDDEN, "only moderators may read the audit log");
    v1::AuditRequest bounded = request;
    bounded.set_limit(request.limit() == 0 ? 50 : std::min(request.limit(), kMaxAuditPage));
    moderation_.audit(*this, request_id, bounded);
}

void ClientSession::handle_moderation_queue(std::uint64_t request_id) {
    if (!moderates_anything()) {
        return send_error(request_id, v1::FORBIDDEN, "only moderators have a moderation queue");
    }
    moderation_.moderation_queue(*this, request_id);
}

void ClientSession::handle_leave(std::uint64_t request_id, const v1::Leave& leave) {
    const std::string& room_id = leave.room_id();
    if (!is_joined(room_id)) return send_error(request_id, v1::NOT_JOINED, "not in this room");
    if (!take_join_leave(request_id)) return;
    forget_room(room_id);
    hub_.leave(*this, request_id, room_id);  // Left comes back from the room's owner
}

void ClientSession::handle_post(std::uint64_t request_id, const v1::Post& post) {
    const config::LimitsConfig& limits = hub_.context().config.limits;
    if (!is_joined(post.room_id())) {
        return send_error(request_id, v1::NOT_JOINED, "join the room first");
    }
    const auto length = protocol::utf8_length(post.text());
    if (!length || *length == 0) {
        return send_error(request_id, v1::BAD_REQUEST, "text is required");
    }
    if (*length > limits.max_post_chars) {
        return send_error(
            request_id, v1::POST_TOO_LONG,
            "the post is longer than " + std::to_string(limits.max_post_chars) + " characters");
    }
    if (post.client_msg_id().size() > kMaxClientMsgIdBytes) {
        return send_error(request_id, v1::BAD_REQUEST, "client_msg_id is longer than 64 bytes");
    }
    const auto warning_length = protocol::utf8_length(post.content_warning());
    if (!warning_length || *warning_length > kMaxContentWarningChars) {
        return send_error(request_id, v1::BAD_REQUEST,
                          "content_warning is longer than 100 characters");
    }
    const auto now = core::steady_now();
    if (!post_budget_.try_take(now)) {
        auto& counters = hub_.counters();
        counters.add(counters.rate_limited);
        const auto wait = post_budget_.wait_time(now);
        return send_error(request_id, v1::RATE_LIMITED, "slow down a little",
                          static_cast<std::uint32_t>(wait.count()));
    }
    hub_.post(*this, request_id, post);
}

std::optional<std::pair<v1::ErrorCode, std::string>> ClientSession::check_private_text(
    const std::string& thread_id, const std::string& text) {
    const std::uint32_t max_chars = hub_.context().config.limits.max_post_chars;
    if (thread_id.empty() || thread_id.size() > kMaxThreadIdBytes) {
        return std::pair{v1::BAD_REQUEST, std::string("the alert's id is missing or too long")};
    }
    const auto length = protocol::utf8_length(text);
    if (!length || *length == 0) return std::pair{v1::BAD_REQUEST, std::string("text is required")};
    if (*length > max_chars) {
        return std::pair{v1::POST_TOO_LONG,
                         "the message is longer than " + std::to_string(max_chars) + " characters"};
    }
    // Private messages share the post budget: nobody floods another person in private.
    const auto now = core::steady_now();
    if (!post_budget_.try_take(now)) {
        auto& counters = hub_.counters();
        counters.add(counters.rate_limited);
        return std::pair{v1::RATE_LIMITED, std::string("slow down a little")};
    }
    return std::nullopt;
}

void ClientSession::handle_check_in(std::uint64_t request_id, const v1::CheckIn& check_in) {
    if (!moderates_anything()) {
        return send_error(request_id, v1::FORBIDDEN, "only moderators reach out");
    }
    if (auto problem = check_private_text(check_in.item_id(), check_in.text())) {
        return send_error(request_id, problem->first, problem->second,
                          problem->first == v1::RATE_LIMITED ? retry_after_post() : 0);
    }
    moderation_.check_in(*this, request_id, check_in);
}

void ClientSession::handle_check_in_reply(std::uint64_t request_id,
                                          const v1::CheckInReply& answer) {
    if (auto problem = check_private_text(answer.thread_id(), answer.text())) {
        return send_error(request_id, problem->first, problem->second,
                          problem->first == v1::RATE_LIMITED ? retry_after_post() : 0);
    }
    moderation_.check_in_reply(*this, request_id, answer);
}

void ClientSession::handle_meeting(std::uint64_t request_id, const v1::MeetingControl& control) {
    if (!is_joined(control.room_id())) {
        return send_error(request_id, v1::NOT_JOINED, "join the room first");
    }
    // Every step reaches everyone in the room, as a post does: it spends the same budget.
    if (!post_budget_.try_take(core::steady_now())) {
        auto& counters = hub_.counters();
        counters.add(counters.rate_limited);
        return send_error(request_id, v1::RATE_LIMITED, "slow down a little", retry_after_post());
    }
    meetings_.control(*this, request_id, control);
}

std::uint32_t ClientSession::retry_after_post() {
    return static_cast<std::uint32_t>(post_budget_.wait_time(core::steady_now()).count());
}

void ClientSession::handle_typing(const v1::Typing& typing) {
    // Typing is fire-and-forget: no reply, silently dropped when not joined or too frequent.
    if (!is_joined(typing.room_id())) return;
    if (!typing_budget_.try_take(core::steady_now())) return;
    hub_.typing(*this, typing);
}

void ClientSession::handle_history(std::uint64_t request_id, const v1::HistoryRequest& request) {
    if (!is_joined(request.room_id())) {
        return send_error(request_id, v1::NOT_JOINED, "join the room first");
    }
    if (request.before_seq() != 0 && request.after_seq() != 0 &&
        request.before_seq() <= request.after_seq() + 1) {
        return send_error(request_id, v1::BAD_REQUEST, "before_seq must be above after_seq");
    }
    // A page costs the events it may carry, so paging through a room stays within a budget.
    const std::uint32_t max_page = hub_.context().config.history.max_page;
    const std::uint32_t page =
        request.limit() == 0 ? max_page : std::min(request.limit(), max_page);
    const auto now = core::steady_now();
    if (!history_budget_.try_take(now, page)) {
        hub_.counters().refuse(core::Refusal::history_rate);
        const auto wait = history_budget_.wait_time(now, page);
        return send_error(request_id, v1::RATE_LIMITED,
                          "reading history too quickly; wait a little",
                          static_cast<std::uint32_t>(wait.count()));
    }
    hub_.history(*this, request_id, request);
}

void ClientSession::handle_ping(std::uint64_t request_id, const v1::Ping& ping) {
    v1::ServerMessage message;
    message.set_request_id(request_id);
    message.mutable_pong()->set_client_time_ms(ping.client_time_ms());
    message.mutable_pong()->set_server_time_ms(core::wall_ms());
    send(message);
}

void ClientSession::send(const v1::ServerMessage& message) {
    connection_.send(protocol::encode_server_frame(message, encoding_));
}

void ClientSession::send_error(std::uint64_t request_id, v1::ErrorCode code, std::string_view text,
                               std::uint32_t retry_after_ms) {
    v1::ServerMessage message;
    message.set_request_id(request_id);
    v1::Error* error = message.mutable_error();
    error->set_code(code);
    error->set_message(std::string(text));
    error->set_retry_after_ms(retry_after_ms);
    send(message);
}

void ClientSession::deliver(const rooms::EncodedEvent& event) {
    const protocol::Frame& frame = event.frame(encoding_);
    if (frame) {
        connection_.send(frame);
    } else {
        // Cannot happen while the owner tracks encodings; if it does, skip rather than crash.
        spdlog::warn("event for room without an encoding for session {}", id_);
    }
}

}  // namespace haven::session
