#include "meetings/meeting_attendance.hpp"

#include <algorithm>
#include <unordered_set>

#include "meetings/meeting_floor.hpp"

namespace haven::meetings {
namespace {

using Speakers = google::protobuf::RepeatedPtrField<v1::MeetingSpeaker>;

std::unordered_set<std::string> present_ids(const Attendance& attendance) {
    std::unordered_set<std::string> ids;
    ids.reserve(attendance.present.size());
    for (const v1::Member& member : attendance.present) ids.insert(member.member_id());
    return ids;
}

bool any_facilitator(const Attendance& attendance) {
    return std::any_of(attendance.present.begin(), attendance.present.end(),
                       [](const v1::Member& m) { return m.role() >= v1::ROLE_PEER_SUPPORTER; });
}

void note_gone(const Speakers& speakers, const std::unordered_set<std::string>& present,
               std::uint64_t now_ms, const Absences& before,
               std::map<std::string, std::uint64_t>& gone) {
    for (const v1::MeetingSpeaker& speaker : speakers) {
        const std::string& id = speaker.member().member_id();
        if (present.count(id) != 0) continue;
        const auto seen = before.hands.find(id);
        gone[id] = seen == before.hands.end() ? now_ms : seen->second;
    }
}

// Keeps the speakers still here (or within their grace), moving a returned person's entry to
// their new session. Returns whether anything changed.
bool tend_speakers(Speakers& speakers, const std::unordered_set<std::string>& present,
                   const Attendance& attendance, const Absences& absences, std::uint64_t grace_ms,
                   std::uint64_t now_ms) {
    bool changed = false;
    Speakers kept;
    for (v1::MeetingSpeaker& speaker : speakers) {
        if (present.count(speaker.member().member_id()) != 0) {
            *kept.Add() = std::move(speaker);
            continue;
        }
        const auto back =
            std::find_if(attendance.local.begin(), attendance.local.end(), [&](const auto& local) {
                return !speaker.subject().empty() && local.first == speaker.subject() &&
                       present.count(local.second.member_id()) != 0;
            });
        if (back != attendance.local.end()) {
            *speaker.mutable_member() = back->second;
            *kept.Add() = std::move(speaker);
            changed = true;
            continue;
        }
        const auto since = absences.hands.find(speaker.member().member_id());
        if (since != absences.hands.end() && now_ms - std::min(now_ms, since->second) >= grace_ms) {
            changed = true;  // gone for longer than the grace: the hand comes down
            continue;
        }
        *kept.Add() = std::move(speaker);
    }
    speakers.Swap(&kept);
    return changed;
}

}  // namespace

void note_absences(const v1::MeetingState& state, const Attendance& attendance,
                   std::uint64_t now_ms, Absences& absences) {
    const std::unordered_set<std::string> present = present_ids(attendance);
    std::map<std::string, std::uint64_t> gone;
    note_gone(state.hands(), present, now_ms, absences, gone);
    note_gone(state.round(), present, now_ms, absences, gone);
    absences.hands = std::move(gone);
    if (any_facilitator(attendance)) {
        absences.facilitators = 0;
    } else if (absences.facilitators == 0) {
        absences.facilitators = now_ms;
    }
}

std::optional<v1::MeetingState> tend(const v1::MeetingState& current, const MeetingNow& now,
                                     const Attendance& attendance, const Absences& absences,
                                     const config::MeetingFloorConfig& config,
                                     std::uint64_t now_ms) {
    if (now.phase != MeetingPhase::doors_open && now.phase != MeetingPhase::in_session) {
        return std::nullopt;
    }
    const std::unordered_set<std::string> present = present_ids(attendance);
    const std::uint64_t grace_ms = std::uint64_t{config.hand_grace_seconds} * 1000;
    v1::MeetingState next = current;
    bool changed =
        tend_speakers(*next.mutable_hands(), present, attendance, absences, grace_ms, now_ms);
    changed |=
        tend_speakers(*next.mutable_round(), present, attendance, absences, grace_ms, now_ms);

    if (current.facilitated() && config.facilitator_grace_seconds > 0) {
        const bool here = any_facilitator(attendance);
        if (next.paused_until_ms() == 0 && !here && absences.facilitators != 0 &&
            now_ms - std::min(now_ms, absences.facilitators) >= kFacilitatorAbsentMs) {
            next.set_paused_until_ms(now_ms +
                                     std::uint64_t{config.facilitator_grace_seconds} * 1000);
            changed = true;
        } else if (next.paused_until_ms() > now_ms && here) {
            next.set_paused_until_ms(0);  // a facilitator or moderator is back: go on
            changed = true;
        }
    }
    if (auto cut = cut_off_due(next, config, now_ms)) {
        next = std::move(*cut);
        changed = true;
    }
    if (!changed) return std::nullopt;
    next.set_version(current.version() + 1);
    next.clear_by();
    return next;
}

}  // namespace haven::meetings
