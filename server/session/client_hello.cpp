// Who a client is: Hello (guests, guest passes, identity tokens), the checks a handle must
// pass before anyone sees it, and a signed-in session's token lifetime (TokenExpiring,
// Refresh, and the close when a token runs out). Part of ClientSession.
#include <algorithm>
#include <random>

#include "auth/guest_names.hpp"
#include "auth/guest_pass.hpp"
#include "auth/handle_policy.hpp"
#include "auth/jwt.hpp"
#include "core/address_limits.hpp"
#include "moderation/desk/target_role.hpp"
#include "rooms/hub.hpp"
#include "session/client_session.hpp"

namespace haven::session {
namespace {

constexpr unsigned kMaxFailedHellos = 5;

v1::Role wire_role(auth::Role role) {
    switch (role) {
        case auth::Role::participant:
            return v1::ROLE_PARTICIPANT;
        case auth::Role::peer_supporter:
            return v1::ROLE_PEER_SUPPORTER;
        case auth::Role::moderator:
            return v1::ROLE_MODERATOR;
        case auth::Role::operator_:
            return v1::ROLE_OPERATOR;
    }
    return v1::ROLE_PARTICIPANT;
}

std::map<std::string, v1::Role> wire_room_roles(const std::map<std::string, auth::Role>& roles) {
    std::map<std::string, v1::Role> out;
    for (const auto& [room_id, role] : roles) out[room_id] = wire_role(role);
    return out;
}

std::mt19937_64& thread_rng() {
    // Seeded with 256 bits, so instances and threads do not share sequences.
    thread_local std::mt19937_64 rng = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(),
                           device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    return rng;
}

// A new guest's identity: "g:" and 13 random URL-safe characters (78 bits, so guests never
// collide), 15 characters in all. That fits in a std::string without a heap allocation, and
// every member record holds one.
std::string new_guest_subject() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::uniform_int_distribution<int> pick(0, 63);
    std::string out = "g:";
    for (int i = 0; i < 13; ++i) out.push_back(kAlphabet[pick(thread_rng())]);
    return out;
}

v1::Role highest_role(v1::Role role, const std::map<std::string, v1::Role>& room_roles) {
    v1::Role highest = role;
    for (const auto& [room_id, granted] : room_roles) highest = std::max(highest, granted);
    return highest;
}

// A token's name is the identity system's; the person cannot change it here.
constexpr std::string_view kTokenNameAdvice = "; change it with your identity provider";

}  // namespace

void ClientSession::fail_hello(std::uint64_t request_id, v1::ErrorCode code, std::string_view why) {
    send_error(request_id, code, why);
    // Guessing tokens over one connection is cut short.
    if (++failed_hellos_ >= kMaxFailedHellos) close(protocol::CloseCode::policy_violation);
}

void ClientSession::handle_hello(std::uint64_t request_id, const v1::Hello& hello) {
    if (authenticated_) {
        return send_error(request_id, v1::ALREADY_AUTHENTICATED, "Hello was already accepted");
    }
    if (hello_pending_) {
        return send_error(request_id, v1::BAD_REQUEST, "the previous Hello is being answered");
    }
    const core::ServerContext& context = hub_.context();
    const std::int64_t now = core::wall_seconds();
    Admission admission;
    admission.omit_rooms = hello.omit_rooms();

    if (!hello.token().empty()) {
        if (!context.tokens.enabled()) {
            return fail_hello(request_id, v1::AUTH_FAILED, "this server does not accept tokens");
        }
        auth::TokenResult result = context.tokens.verify(hello.token(), now);
        if (!result.claims) {
            return fail_hello(request_id, v1::AUTH_FAILED,
                              "token rejected: " + std::string(auth::to_string(result.error)));
        }
        auth::Claims& claims = *result.claims;
        // Guest identities are participants by their form alone, and staff names are kept
        // under subjects of their own: no token may take either.
        if (moderation::is_guest_subject(claims.subject) ||
            claims.subject.starts_with(rooms::kStaffNameSubjectPrefix)) {
            return fail_hello(request_id, v1::AUTH_FAILED,
                              "token rejected: its subject has a form reserved by the server");
        }
        auto visible = auth::strip_invisible(claims.handle);
        if (!visible || auth::handle_key(*visible).empty()) {
            return fail_hello(request_id, v1::AUTH_FAILED,
                              "token rejected: its name has no visible letters or holds control "
                              "characters");
        }
        admission.subject = std::move(claims.subject);
        admission.handle = std::move(*visible);
        admission.role = wire_role(claims.role);
        admission.room_roles = wire_room_roles(claims.room_roles);
        admission.token_expires_at = claims.expires_at;
        admission.chose_handle = true;
        return admit(request_id, std::move(admission));
    }
    if (!hello.guest()) {
        return fail_hello(request_id, v1::BAD_REQUEST, "Hello needs a token or guest: true");
    }
    if (!context.config.auth.guest_enabled) {
        return fail_hello(request_id, v1::GUESTS_DISABLED,
                          "this server does not admit guests; sign in");
    }
    if (!hello.guest_token().empty()) {
        if (auto claims = context.guest_passes.verify(hello.guest_token(), now)) {
            // The handle passed its checks when the pass was issued.
            admission.subject = std::move(claims->subject);
            admission.handle = std::move(claims->handle);
            return admit(request_id, std::move(admission));
        }
        // An expired pass is not an error: the person simply becomes a new guest.
    }
    // Throwaway guests are the cheap abuse: each address mints only so many an hour.
    if (context.addresses != nullptr) {
        const auto [refusal, wait] =
            context.addresses->take_new_guest(address_key_, core::steady_now());
        if (refusal != core::Refusal::none) {
            hub_.counters().refuse(refusal);
            send_error(request_id, v1::RATE_LIMITED,
                       "too many new guests from your network right now; come back later, or "
                       "sign in",
                       static_cast<std::uint32_t>(wait.count()));
            return;
        }
    }
    admission.subject = new_guest_subject();
    if (!hello.guest_handle().empty()) {
        auto cleaned = auth::clean_handle(hello.guest_handle());
        if (!cleaned) {
            return fail_hello(
                request_id, v1::BAD_REQUEST,
                "guest_handle must be 2 to 32 letters, digits, spaces, '-', '_' or '.'");
        }
        admission.handle = std::move(*cleaned);
        admission.chose_handle = true;
    } else {
        admission.handle = auth::random_guest_handle(thread_rng());
    }
    admit(request_id, std::move(admission));
}

void ClientSession::admit(std::uint64_t request_id, Admission admission) {
    const bool signed_in = admission.token_expires_at != 0;
    // Staff signed in with a token are who the names are kept for.
    if (!admission.chose_handle ||
        (signed_in &&
         highest_role(admission.role, admission.room_roles) >= v1::ROLE_PEER_SUPPORTER)) {
        return welcome(request_id, std::move(admission));
    }
    const std::string_view advice = signed_in ? kTokenNameAdvice : "; choose another";
    const auth::HandlePolicy* policy = hub_.context().handles;
    if (policy != nullptr && policy->reserved(admission.handle)) {
        return send_error(request_id, v1::HANDLE_UNAVAILABLE,
                          "that name is reserved for the service" + std::string(advice));
    }
    hello_pending_ = true;
    // Named before the call: the callback below takes `admission` away.
    const std::string name_key = auth::loose_handle_key(admission.handle);
    const std::string subject = admission.subject;
    hub_.check_staff_name(
        *this, subject, name_key,
        [this, request_id, advice,
         admission = std::move(admission)](std::optional<bool> staff_name) mutable {
            hello_pending_ = false;
            if (!staff_name) {
                return send_error(request_id, v1::UNAVAILABLE,
                                  "names cannot be checked right now; try again", 1000);
            }
            if (*staff_name) {
                return send_error(request_id, v1::HANDLE_UNAVAILABLE,
                                  "that name belongs to a member of staff" + std::string(advice));
            }
            welcome(request_id, std::move(admission));
        });
}

void ClientSession::welcome(std::uint64_t request_id, Admission admission) {
    const core::ServerContext& context = hub_.context();
    const config::LimitsConfig& limits = context.config.limits;
    const bool signed_in = admission.token_expires_at != 0;
    // Signed-in people are banned by who they are; only a guest's address is kept, so that a
    // ban of one guest also keeps out the next one made from there.
    if (signed_in) address_key_.clear();
    if (hub_.globally_banned(admission.subject, address_key_)) {
        if (!hub_.globally_banned(admission.subject)) {
            hub_.counters().refuse(core::Refusal::banned_address);
        }
        send_error(request_id, v1::BANNED, "this account may not use the service right now");
        return close(protocol::CloseCode::banned);
    }
    authenticated_ = true;
    subject_ = std::move(admission.subject);
    room_roles_.assign(admission.room_roles.begin(), admission.room_roles.end());
    member_.set_handle(admission.handle);
    member_.set_role(admission.role);
    member_.set_member_id(hub_.session_name(id_));
    handle_key_ = auth::handle_key(admission.handle);

    v1::ServerMessage message;
    message.set_request_id(request_id);
    v1::Welcome* welcome = message.mutable_welcome();
    welcome->set_session_id(member_.member_id());
    welcome->set_handle(admission.handle);
    welcome->set_role(admission.role);
    welcome->set_server_time_ms(core::wall_ms());
    v1::Limits* wire_limits = welcome->mutable_limits();
    wire_limits->set_max_frame_bytes(limits.max_frame_bytes);
    wire_limits->set_max_post_chars(limits.max_post_chars);
    wire_limits->set_posts_per_second(limits.posts_per_second);
    wire_limits->set_post_burst(limits.post_burst);
    wire_limits->set_max_rooms(limits.max_rooms_per_session);
    if (signed_in) {
        token_ends_at_ms_ = (admission.token_expires_at + context.tokens.leeway_seconds()) * 1000;
        welcome->set_token_expires_at_ms(static_cast<std::uint64_t>(token_ends_at_ms_));
    } else {
        // A guest gets a pass to come back as the same guest.
        welcome->set_guest_token(
            context.guest_passes.issue(subject_, admission.handle, core::wall_seconds()));
    }
    if (moderates_anything()) *welcome->mutable_duty() = hub_.duty().roster;
    if (admission.omit_rooms) {
        send(message);
    } else {
        connection_.send(hub_.room_list().encode_welcome(message, encoding_));
    }
    if (moderates_anything()) hub_.add_moderator(*this);
    // Guests are participants by their identity's form; signed-in people are remembered, so
    // an action naming them while they are offline still knows their rank.
    if (signed_in) hub_.record_role(*this, auth::loose_handle_key(admission.handle));
}

// ---- a token's lifetime ------------------------------------------------------------------

void ClientSession::tick(core::SteadyTime now) {
    if (token_ends_at_ms_ != 0) check_token_expiry(core::wall_ms());
    connection_.tick(now);
}

void ClientSession::check_token_expiry(std::int64_t now_ms) {
    if (now_ms >= token_ends_at_ms_) {
        // Its powers end with the token: a demoted moderator keeps none past it.
        token_ends_at_ms_ = 0;
        return close(protocol::CloseCode::token_expired);
    }
    const std::int64_t notice_ms =
        std::int64_t{hub_.context().config.auth.token_expiry_notice_seconds} * 1000;
    if (!expiry_notice_sent_ && now_ms >= token_ends_at_ms_ - notice_ms) {
        expiry_notice_sent_ = true;
        v1::ServerMessage message;
        message.mutable_token_expiring()->set_expires_at_ms(
            static_cast<std::uint64_t>(token_ends_at_ms_));
        send(message);
    }
}

void ClientSession::handle_refresh(std::uint64_t request_id, const v1::Refresh& refresh) {
    if (token_ends_at_ms_ == 0) {
        return send_error(request_id, v1::BAD_REQUEST, "only a signed-in session has a token");
    }
    const core::ServerContext& context = hub_.context();
    auth::TokenResult result = context.tokens.verify(refresh.token(), core::wall_seconds());
    if (!result.claims) {
        return send_error(request_id, v1::AUTH_FAILED,
                          "token rejected: " + std::string(auth::to_string(result.error)));
    }
    if (result.claims->subject != subject_) {
        return send_error(request_id, v1::AUTH_FAILED, "token rejected: it is for someone else");
    }
    const bool moderated = moderates_anything();
    const std::map<std::string, v1::Role> grants = wire_room_roles(result.claims->room_roles);
    room_roles_.assign(grants.begin(), grants.end());
    member_.set_role(wire_role(result.claims->role));
    token_ends_at_ms_ = (result.claims->expires_at + context.tokens.leeway_seconds()) * 1000;
    expiry_notice_sent_ = false;
    // Moderation items follow the new role at once, in both directions.
    if (moderated && !moderates_anything()) hub_.remove_moderator(*this);
    if (!moderated && moderates_anything()) hub_.add_moderator(*this);
    hub_.record_role(*this, auth::loose_handle_key(member_.handle()));
    review_duty();

    v1::ServerMessage message;
    message.set_request_id(request_id);
    message.mutable_refreshed()->set_role(member_.role());
    message.mutable_refreshed()->set_token_expires_at_ms(
        static_cast<std::uint64_t>(token_ends_at_ms_));
    send(message);
}

}  // namespace haven::session
