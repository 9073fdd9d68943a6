// The on-duty roster of the whole deployment, kept by shard 0 (moderation/duty_roster) and
// shared with the instances through the broker: each reports its own people on every change
// and every third of broker.presence_timeout_seconds, and forgets an instance silent for the
// whole timeout. Every shard's Hub gets each new roster, to push it to its moderators and to
// tell a person whose post raised a crisis alert whether a moderator on duty was let know.
//
// Executor: shard 0. `set` and `clear` may be called on any shard; the work runs on 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "core/shard_router.hpp"
#include "haven.pb.h"
#include "moderation/duty_roster.hpp"

namespace haven::rooms {

class Hub;

class DutyBoard {
public:
    DutyBoard(core::ShardRouter& router, const std::vector<Hub*>& hubs)
        : router_(router), hubs_(hubs) {}
    void connect(broker::Broker& shard_zero);

    // A session went on duty (or changed its rooms) / off duty or away.
    void set(std::uint64_t session_id, std::string subject, v1::OnDuty duty);
    void clear(std::uint64_t session_id);

    // Shard 0: another instance's report; and the sweep's tick (reports, forgets the silent).
    void on_report(const v1::DutyReport& report);
    void tick(std::uint64_t now_ms);

private:
    template <class Task>
    void on_zero(Task task);
    void publish(bool asks_for_reports);
    void roster_changed();

    core::ShardRouter& router_;
    const std::vector<Hub*>& hubs_;
    broker::Broker* broker_ = nullptr;
    std::optional<moderation::DutyRoster> roster_;  // shard 0's, once connected
    std::uint64_t timeout_ms_ = 0;
    std::uint64_t next_report_ms_ = 0;  // 0: not reported yet (the first report asks back)
};

}  // namespace haven::rooms
