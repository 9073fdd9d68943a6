#include "moderation/duty_roster.hpp"

#include <algorithm>

namespace haven::moderation {
namespace {

void add_missing(google::protobuf::RepeatedPtrField<std::string>& into,
                 const google::protobuf::RepeatedPtrField<std::string>& from) {
    for (const std::string& value : from) add_once(into, value);
}

bool same_entries(const std::vector<v1::DutyReport::Entry>& a,
                  const google::protobuf::RepeatedPtrField<v1::DutyReport::Entry>& b) {
    if (a.size() != static_cast<std::size_t>(b.size())) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].SerializeAsString() != b[static_cast<int>(i)].SerializeAsString()) return false;
    }
    return true;
}

// Global staff of moderator rank serve every room; otherwise the rooms they moderate count.
bool moderates_everywhere(const v1::OnDuty& duty) {
    return duty.everywhere() && duty.role() >= v1::ROLE_MODERATOR;
}

bool moderates_room(const v1::OnDuty& duty, const std::string& room_id) {
    return moderates_everywhere(duty) || std::find(duty.moderates().begin(), duty.moderates().end(),
                                                   room_id) != duty.moderates().end();
}

}  // namespace

void add_once(google::protobuf::RepeatedPtrField<std::string>& list, const std::string& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) list.Add()->assign(value);
}

void merge_duty(v1::OnDuty& into, const v1::OnDuty& from) {
    into.set_everywhere(into.everywhere() || from.everywhere());
    into.set_role(std::max(into.role(), from.role()));
    if (from.since_ms() != 0 && (into.since_ms() == 0 || from.since_ms() < into.since_ms())) {
        into.set_since_ms(from.since_ms());
    }
    add_missing(*into.mutable_room_ids(), from.room_ids());
    add_missing(*into.mutable_moderates(), from.moderates());
}

bool DutySnapshot::covers(const std::string& room_id) const {
    return std::any_of(roster.on_duty().begin(), roster.on_duty().end(),
                       [&](const v1::OnDuty& duty) { return moderates_room(duty, room_id); });
}

bool DutySnapshot::covered_by(const std::string& handle, const std::string& room_id) const {
    return std::any_of(roster.on_duty().begin(), roster.on_duty().end(),
                       [&](const v1::OnDuty& duty) {
                           return duty.handle() == handle && moderates_room(duty, room_id);
                       });
}

std::size_t DutySnapshot::moderators() const {
    return static_cast<std::size_t>(std::count_if(
        roster.on_duty().begin(), roster.on_duty().end(),
        [](const auto& duty) { return moderates_everywhere(duty) || !duty.moderates().empty(); }));
}

bool DutyRoster::set_local(std::uint64_t session_id, std::string subject, v1::OnDuty duty) {
    auto found = local_.find(session_id);
    if (found != local_.end()) {
        // Changing rooms keeps the time the person came on duty.
        duty.set_since_ms(found->second.duty.since_ms());
        if (found->second.duty.SerializeAsString() == duty.SerializeAsString()) return false;
        found->second = Local{std::move(subject), std::move(duty)};
        return true;
    }
    local_.emplace(session_id, Local{std::move(subject), std::move(duty)});
    return true;
}

bool DutyRoster::clear_local(std::uint64_t session_id) {
    return local_.erase(session_id) != 0;
}

v1::DutyReport DutyRoster::local_report() const {
    v1::DutyReport report;
    report.set_instance_id(instance_id_);
    std::map<std::string, v1::OnDuty> by_subject;
    for (const auto& [session_id, local] : local_) {
        auto [it, fresh] = by_subject.try_emplace(local.subject, local.duty);
        if (!fresh) merge_duty(it->second, local.duty);
    }
    for (auto& [subject, duty] : by_subject) {
        v1::DutyReport::Entry* entry = report.add_entries();
        entry->set_subject(subject);
        *entry->mutable_duty() = std::move(duty);
    }
    return report;
}

bool DutyRoster::apply(const v1::DutyReport& report, std::uint64_t now_ms) {
    if (report.instance_id() == instance_id_ || report.instance_id().empty()) return false;
    Remote& remote = remote_[report.instance_id()];
    remote.heard_ms = now_ms;
    if (same_entries(remote.entries, report.entries())) return false;
    // One instance's people on duty: far fewer than this, whatever a broken peer sends.
    const int kept = std::min(report.entries_size(), static_cast<int>(kMaxReportEntries));
    remote.entries.assign(report.entries().begin(), report.entries().begin() + kept);
    return true;
}

bool DutyRoster::expire(std::uint64_t now_ms) {
    bool changed = false;
    for (auto it = remote_.begin(); it != remote_.end();) {
        if (now_ms - std::min(now_ms, it->second.heard_ms) >= timeout_ms_) {
            changed = changed || !it->second.entries.empty();
            it = remote_.erase(it);
        } else {
            ++it;
        }
    }
    return changed;
}

std::shared_ptr<const DutySnapshot> DutyRoster::snapshot() const {
    // One entry per person, wherever they are connected.
    std::map<std::string, v1::OnDuty> by_subject;
    const auto absorb = [&](const std::string& subject, const v1::OnDuty& duty) {
        auto [it, fresh] = by_subject.try_emplace(subject, duty);
        if (!fresh) merge_duty(it->second, duty);
    };
    for (const auto& [session_id, local] : local_) absorb(local.subject, local.duty);
    for (const auto& [instance_id, remote] : remote_) {
        for (const auto& entry : remote.entries) absorb(entry.subject(), entry.duty());
    }
    std::vector<v1::OnDuty> people;
    people.reserve(by_subject.size());
    for (auto& [subject, duty] : by_subject) people.push_back(std::move(duty));
    std::sort(people.begin(), people.end(),
              [](const auto& a, const auto& b) { return a.handle() < b.handle(); });
    auto snapshot = std::make_shared<DutySnapshot>();
    for (auto& duty : people) *snapshot->roster.add_on_duty() = std::move(duty);
    return snapshot;
}

}  // namespace haven::moderation
