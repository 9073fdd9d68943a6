#include "meetings/meeting_floor.hpp"

#include <algorithm>
#include <random>

namespace haven::meetings {
namespace {

using Action = v1::MeetingControl::Action;
using Phase = v1::MeetingState::Phase;

constexpr std::uint32_t kMaxShareSeconds = 3600;
constexpr std::uint32_t kMaxExtensionMinutes = 24 * 60;

FloorRefusal refuse(v1::ErrorCode code, std::string message) {
    return FloorRefusal{code, std::move(message)};
}

v1::MeetingSpeaker speaker_of(const FloorActor& actor, std::uint64_t now_ms) {
    v1::MeetingSpeaker speaker;
    *speaker.mutable_member() = actor.member;
    speaker.set_subject(actor.subject);
    speaker.set_since_ms(now_ms);
    return speaker;
}

bool is_person(const v1::MeetingSpeaker& speaker, const std::string& subject,
               const std::string& member_id) {
    if (!speaker.subject().empty() && !subject.empty()) return speaker.subject() == subject;
    return speaker.member().member_id() == member_id;
}

using Speakers = google::protobuf::RepeatedPtrField<v1::MeetingSpeaker>;

int find_speaker(const Speakers& speakers, const std::string& subject,
                 const std::string& member_id) {
    for (int i = 0; i < speakers.size(); ++i) {
        if (is_person(speakers[i], subject, member_id)) return i;
    }
    return -1;
}

int find_member_id(const Speakers& speakers, const std::string& member_id) {
    for (int i = 0; i < speakers.size(); ++i) {
        if (speakers[i].member().member_id() == member_id) return i;
    }
    return -1;
}

v1::MeetingSpeaker take(Speakers& speakers, int index) {
    v1::MeetingSpeaker taken = std::move(speakers[index]);
    speakers.DeleteSubrange(index, 1);
    return taken;
}

void give_floor(v1::MeetingState& state, v1::MeetingSpeaker speaker, std::uint32_t seconds,
                std::uint64_t now_ms) {
    speaker.set_since_ms(now_ms);
    *state.mutable_floor() = std::move(speaker);
    state.set_floor_deadline_ms(seconds == 0 ? 0 : now_ms + std::uint64_t{seconds} * 1000);
}

// The floor comes back: in a round it goes on to the next one at once.
void floor_returns(v1::MeetingState& state, const config::MeetingFloorConfig& config,
                   std::uint64_t now_ms) {
    state.clear_floor();
    state.set_floor_deadline_ms(0);
    if (state.round_size() > 0) {
        give_floor(state, take(*state.mutable_round(), 0), config.share_seconds, now_ms);
    }
}

std::vector<v1::Member> round_order(const FloorContext& context, std::uint64_t seed) {
    std::vector<v1::Member> order = context.present;
    switch (context.config.round_order) {
        case config::RoundOrder::arrival:
            break;
        case config::RoundOrder::facilitators_first:
            std::stable_partition(order.begin(), order.end(), [](const v1::Member& member) {
                return member.role() >= v1::ROLE_PEER_SUPPORTER;
            });
            break;
        case config::RoundOrder::random: {
            std::mt19937_64 random(seed);
            std::shuffle(order.begin(), order.end(), random);
            break;
        }
    }
    if (context.max_hands > 0 && order.size() > context.max_hands) order.resize(context.max_hands);
    return order;
}

bool open_for_the_floor(const MeetingNow& now) {
    return now.phase == MeetingPhase::doors_open || now.phase == MeetingPhase::in_session;
}

bool is_valid_phase(int phase) {
    return v1::MeetingState::Phase_IsValid(phase) && phase != v1::MeetingState::PHASE_UNSPECIFIED;
}

}  // namespace

bool floor_only_by_default(Phase phase) {
    return phase == v1::MeetingState::CHECK_IN || phase == v1::MeetingState::SHARING ||
           phase == v1::MeetingState::CHECK_OUT;
}

bool holds_floor(const v1::MeetingState& state, const std::string& subject,
                 const std::string& member_id) {
    return state.has_floor() && is_person(state.floor(), subject, member_id);
}

FloorStep apply_control(const v1::MeetingState& current, const v1::MeetingControl& control,
                        const FloorActor& actor, const FloorContext& context) {
    const std::uint64_t now_ms = context.now_ms;
    const std::string& own_id = actor.member.member_id();
    const bool for_facilitators = control.action() != v1::MeetingControl::RAISE_HAND &&
                                  control.action() != v1::MeetingControl::PASS &&
                                  !(control.action() == v1::MeetingControl::LOWER_HAND &&
                                    (control.member_id().empty() || control.member_id() == own_id));
    if (for_facilitators && !actor.facilitator) {
        return refuse(v1::FORBIDDEN, "only the meeting's facilitators may do that");
    }
    const bool course = control.action() == v1::MeetingControl::START_MEETING ||
                        control.action() == v1::MeetingControl::END_MEETING ||
                        control.action() == v1::MeetingControl::EXTEND_MEETING;
    if (!course && !open_for_the_floor(context.now)) {
        return refuse(v1::MEETING_CLOSED, "the meeting is not open now");
    }
    v1::MeetingState next = current;
    next.set_version(current.version() + 1);
    *next.mutable_by() = actor.member;
    if (actor.facilitator) next.set_facilitated(true);
    switch (control.action()) {
        case v1::MeetingControl::RAISE_HAND: {
            if (find_speaker(next.hands(), actor.subject, own_id) >= 0) return Unchanged{};
            if (holds_floor(next, actor.subject, own_id)) {
                return refuse(v1::BAD_REQUEST, "you have the floor");
            }
            if (context.max_hands > 0 &&
                static_cast<std::uint32_t>(next.hands_size()) >= context.max_hands) {
                return refuse(v1::BAD_REQUEST, "the hand queue is full");
            }
            *next.add_hands() = speaker_of(actor, now_ms);
            return next;
        }
        case v1::MeetingControl::LOWER_HAND: {
            const bool own = control.member_id().empty() || control.member_id() == own_id;
            const int index = own ? find_speaker(next.hands(), actor.subject, own_id)
                                  : find_member_id(next.hands(), control.member_id());
            if (index < 0) {
                if (own) return Unchanged{};
                return refuse(v1::NOT_FOUND, "that member's hand is not raised");
            }
            take(*next.mutable_hands(), index);
            return next;
        }
        case v1::MeetingControl::LOWER_ALL:
            if (next.hands_size() == 0) return Unchanged{};
            next.clear_hands();
            return next;
        case v1::MeetingControl::GIVE_FLOOR: {
            if (control.seconds() > kMaxShareSeconds) {
                return refuse(v1::BAD_REQUEST, "a share lasts at most an hour");
            }
            const std::uint32_t seconds =
                control.seconds() != 0 ? control.seconds() : context.config.share_seconds;
            if (control.member_id().empty()) {
                Speakers& from =
                    next.round_size() > 0 ? *next.mutable_round() : *next.mutable_hands();
                if (from.empty()) return refuse(v1::NOT_FOUND, "no hand is raised");
                give_floor(next, take(from, 0), seconds, now_ms);
                return next;
            }
            for (Speakers* from : {next.mutable_hands(), next.mutable_round()}) {
                const int index = find_member_id(*from, control.member_id());
                if (index >= 0) {
                    give_floor(next, take(*from, index), seconds, now_ms);
                    return next;
                }
            }
            const auto present = std::find_if(context.present.begin(), context.present.end(),
                                              [&](const v1::Member& member) {
                                                  return member.member_id() == control.member_id();
                                              });
            if (present == context.present.end()) {
                return refuse(v1::NOT_FOUND, "that member is not in the room");
            }
            v1::MeetingSpeaker speaker;
            *speaker.mutable_member() = *present;
            give_floor(next, std::move(speaker), seconds, now_ms);
            return next;
        }
        case v1::MeetingControl::SKIP: {
            if (next.hands_size() == 0) return refuse(v1::NOT_FOUND, "no hand is raised");
            if (next.hands_size() == 1) return Unchanged{};
            v1::MeetingSpeaker first = take(*next.mutable_hands(), 0);
            *next.add_hands() = std::move(first);
            return next;
        }
        case v1::MeetingControl::PASS: {
            if (holds_floor(next, actor.subject, own_id)) {
                floor_returns(next, context.config, now_ms);
                return next;
            }
            // In a round, someone whose turn is still to come may pass before it comes.
            const int waiting = find_speaker(next.round(), actor.subject, own_id);
            if (waiting < 0) return refuse(v1::BAD_REQUEST, "you do not hold the floor");
            take(*next.mutable_round(), waiting);
            return next;
        }
        case v1::MeetingControl::EXTEND_SHARE: {
            if (!next.has_floor()) return refuse(v1::NOT_FOUND, "nobody holds the floor");
            if (control.seconds() == 0 || control.seconds() > kMaxShareSeconds) {
                return refuse(v1::BAD_REQUEST, "extend a share by 1 to 3600 seconds");
            }
            if (next.floor_deadline_ms() == 0) return Unchanged{};  // no limit to move
            next.set_floor_deadline_ms(std::max(next.floor_deadline_ms(), now_ms) +
                                       std::uint64_t{control.seconds()} * 1000);
            return next;
        }
        case v1::MeetingControl::END_SHARE:
            if (!next.has_floor()) return Unchanged{};
            floor_returns(next, context.config, now_ms);
            return next;
        case v1::MeetingControl::SET_PHASE: {
            if (!is_valid_phase(control.phase())) {
                return refuse(v1::BAD_REQUEST,
                              "choose a phase: check-in, sharing, open "
                              "discussion or check-out");
            }
            next.set_phase(control.phase());
            next.set_floor_only(control.has_floor_only() ? control.floor_only()
                                                         : floor_only_by_default(control.phase()));
            next.clear_round();
            next.clear_floor();
            next.set_floor_deadline_ms(0);
            return next;
        }
        case v1::MeetingControl::START_ROUND: {
            next.clear_round();
            for (v1::Member& member : round_order(context, now_ms ^ next.version())) {
                v1::MeetingSpeaker& speaker = *next.add_round();
                *speaker.mutable_member() = std::move(member);
            }
            if (next.round_size() == 0) return refuse(v1::NOT_FOUND, "nobody is in the room");
            if (next.phase() != v1::MeetingState::CHECK_OUT) {
                next.set_phase(v1::MeetingState::CHECK_IN);
            }
            next.set_floor_only(true);
            give_floor(next, take(*next.mutable_round(), 0), context.config.share_seconds, now_ms);
            return next;
        }
        case v1::MeetingControl::START_MEETING:
            if (context.now.phase == MeetingPhase::in_session && context.now.paused_until_ms == 0) {
                return Unchanged{};
            }
            if (!context.now.occurrence && context.now.phase == MeetingPhase::ended &&
                next.occurrence_start_ms() != 0) {
                return refuse(v1::MEETING_CLOSED, "no occurrence of this meeting is left");
            }
            next.set_started_ms(now_ms);
            next.set_ended_ms(0);
            next.set_paused_until_ms(0);
            return next;
        case v1::MeetingControl::END_MEETING:
            if (!open_for_the_floor(context.now)) return Unchanged{};
            next.set_ended_ms(now_ms);
            next.set_paused_until_ms(0);
            next.clear_hands();
            next.clear_round();
            next.clear_floor();
            next.set_floor_deadline_ms(0);
            return next;
        case v1::MeetingControl::EXTEND_MEETING:
            if (!context.now.occurrence) {
                return refuse(v1::BAD_REQUEST, "this meeting has no scheduled end to move");
            }
            if (!open_for_the_floor(context.now)) {
                return refuse(v1::MEETING_CLOSED, "the meeting is not open now");
            }
            if (control.minutes() == 0 ||
                next.extended_minutes() + control.minutes() > kMaxExtensionMinutes) {
                return refuse(v1::BAD_REQUEST, "extend a meeting by 1 minute to 24 hours in all");
            }
            next.set_extended_minutes(next.extended_minutes() + control.minutes());
            return next;
        default:
            return refuse(v1::BAD_REQUEST, "choose a meeting action");
    }
}

std::optional<v1::MeetingState> cut_off_due(const v1::MeetingState& current,
                                            const config::MeetingFloorConfig& config,
                                            std::uint64_t now_ms) {
    if (!config.cut_off || !current.has_floor() || current.floor_deadline_ms() == 0 ||
        now_ms < current.floor_deadline_ms()) {
        return std::nullopt;
    }
    v1::MeetingState next = current;
    next.set_version(current.version() + 1);
    next.clear_by();
    floor_returns(next, config, now_ms);
    return next;
}

}  // namespace haven::meetings
