#include "app/chat_engine.hpp"

#include "core/clock.hpp"

namespace haven::app {

ChatEngine::ChatEngine(core::ServerContext& context, core::ShardRouter& router,
                       const BrokerFactory& make_broker)
    : server_wide_(router, hubs_) {
    const unsigned count = router.shard_count();
    for (unsigned shard = 0; shard < count; ++shard) {
        hub_storage_.push_back(std::make_unique<rooms::Hub>(shard, context, router));
        hubs_.push_back(hub_storage_.back().get());
    }
    std::vector<rooms::RoomOwner*> owners;
    std::vector<moderation::ModerationDesk*> desks;
    for (unsigned shard = 0; shard < count; ++shard) {
        owners_.push_back(
            std::make_unique<rooms::RoomOwner>(shard, context, router, hubs_, server_wide_));
        owners_.back()->connect(make_broker(shard, *owners_.back()));
        desks_.push_back(std::make_unique<moderation::ModerationDesk>(*owners_.back()));
        meeting_desks_.push_back(std::make_unique<meetings::MeetingDesk>(*owners_.back()));
        owners.push_back(owners_.back().get());
        desks.push_back(desks_.back().get());
    }
    for (rooms::Hub* hub : hubs_) hub->connect(owners, server_wide_);
    for (auto& desk : desks_) desk->connect(desks);
    std::vector<meetings::MeetingDesk*> meeting_desks;
    for (auto& desk : meeting_desks_) meeting_desks.push_back(desk.get());
    for (auto& desk : meeting_desks_) desk->connect(meeting_desks);
    server_wide_.connect(owners);
}

ChatEngine::~ChatEngine() = default;

void ChatEngine::sweep(unsigned shard, core::SteadyTime now) {
    hubs_[shard]->sweep(now);
    owners_[shard]->expire_waiting_joins(now);
    meeting_desks_[shard]->sweep(core::wall_ms());
    if (shard == 0) {
        const std::uint64_t now_ms = core::wall_ms();
        server_wide_.escalate_due(now_ms);
        server_wide_.follow_up_due(now_ms);
        server_wide_.expire_held_due(now_ms);
        server_wide_.duty_board().tick(now_ms);
    }
}

void ChatEngine::stop_routing() {
    for (rooms::Hub* hub : hubs_) hub->stop_routing();
}

void ChatEngine::release_brokers() {
    for (auto& owner : owners_) owner->release_broker();
}

}  // namespace haven::app
