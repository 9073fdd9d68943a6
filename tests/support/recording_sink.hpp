// A BrokerSink that keeps everything it is handed, for broker tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "broker/broker.hpp"

namespace haven::test {

struct RecordingSink : broker::BrokerSink {
    std::vector<broker::EventPtr> events;
    std::vector<broker::EventPtr> global;
    std::vector<std::shared_ptr<const v1::ModerationItem>> items;
    std::vector<std::string> resubscribed;
    std::vector<std::shared_ptr<const v1::DutyReport>> duty_reports;

    void on_room_event(const broker::EventPtr& event) override { events.push_back(event); }
    void on_global_event(const broker::EventPtr& event) override { global.push_back(event); }
    void on_room_resubscribed(const std::string& room_id) override {
        resubscribed.push_back(room_id);
    }
    void on_moderation_item(const std::shared_ptr<const v1::ModerationItem>& item) override {
        items.push_back(item);
    }
    void on_duty_report(const std::shared_ptr<const v1::DutyReport>& report) override {
        duty_reports.push_back(report);
    }

    // Sequence numbers of the posts delivered for one room.
    std::vector<std::uint64_t> posted_seqs(const std::string& room) const {
        std::vector<std::uint64_t> out;
        for (const auto& e : events) {
            if (e->has_posted() && e->room_id() == room) out.push_back(e->seq());
        }
        return out;
    }
    std::size_t count(v1::Event::KindCase kind) const {
        std::size_t n = 0;
        for (const auto& e : events) n += e->kind_case() == kind ? 1 : 0;
        return n;
    }
};

}  // namespace haven::test
