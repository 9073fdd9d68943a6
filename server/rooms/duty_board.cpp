#include "rooms/duty_board.hpp"

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/server_context.hpp"
#include "core/shard_identity.hpp"
#include "rooms/hub.hpp"

namespace haven::rooms {

void DutyBoard::connect(broker::Broker& shard_zero) {
    broker_ = &shard_zero;
    const core::ServerContext& context = hubs_[0]->context();
    timeout_ms_ = std::uint64_t{context.config.broker.presence_timeout_seconds} * 1000;
    roster_.emplace(context.instance_id, timeout_ms_);
}

template <class Task>
void DutyBoard::on_zero(Task task) {
    if (!hubs_[0]->routing()) return;
    router_.post(0, [this, task = std::move(task)]() mutable {
        core::check_owner(0, "rooms::DutyBoard");
        task();
    });
}

void DutyBoard::set(std::uint64_t session_id, std::string subject, v1::OnDuty duty) {
    on_zero([this, session_id, subject = std::move(subject), duty = std::move(duty)]() mutable {
        if (!roster_->set_local(session_id, std::move(subject), std::move(duty))) return;
        publish(false);
        roster_changed();
    });
}

void DutyBoard::clear(std::uint64_t session_id) {
    on_zero([this, session_id] {
        if (!roster_->clear_local(session_id)) return;
        publish(false);
        roster_changed();
    });
}

void DutyBoard::on_report(const v1::DutyReport& report) {
    core::check_owner(0, "rooms::DutyBoard");
    if (!roster_ || report.instance_id() == hubs_[0]->context().instance_id) return;
    if (report.asks_for_reports()) publish(false);  // a new instance: tell it now
    if (roster_->apply(report, core::wall_ms())) roster_changed();
}

void DutyBoard::tick(std::uint64_t now_ms) {
    core::check_owner(0, "rooms::DutyBoard");
    if (!roster_ || !hubs_[0]->routing()) return;
    if (roster_->expire(now_ms)) roster_changed();
    if (now_ms < next_report_ms_) return;
    const bool first = next_report_ms_ == 0;
    next_report_ms_ = now_ms + std::max<std::uint64_t>(timeout_ms_ / 3, 1000);
    publish(first);
}

void DutyBoard::publish(bool asks_for_reports) {
    v1::DutyReport report = roster_->local_report();
    report.set_asks_for_reports(asks_for_reports);
    broker_->publish_duty(report);
}

void DutyBoard::roster_changed() {
    std::shared_ptr<const moderation::DutySnapshot> snapshot = roster_->snapshot();
    hubs_[0]->context().metrics.queue.on_duty_moderators.store(snapshot->moderators());
    for (Hub* hub : hubs_) {
        if (!hub->routing()) return;
        router_.post(hub->shard(), [hub, snapshot] { hub->set_duty(snapshot); });
    }
}

}  // namespace haven::rooms
