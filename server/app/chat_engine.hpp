// Every shard's chat objects, made and wired together: per shard a Hub (its sessions), a
// RoomOwner (the rooms it owns, with the shard's broker) and a ModerationDesk and a MeetingDesk
// beside it; once,
// the server-wide state on shard 0. The server and the chat tests build the same engine.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "broker/broker.hpp"
#include "core/server_context.hpp"
#include "core/shard_router.hpp"
#include "meetings/desk/meeting_desk.hpp"
#include "moderation/desk/moderation_desk.hpp"
#include "rooms/hub.hpp"
#include "rooms/room_owner.hpp"
#include "rooms/server_wide.hpp"
#include "session/client_session.hpp"

namespace haven::app {

class ChatEngine {
public:
    // Makes shard `shard`'s broker, which reports to `sink`.
    using BrokerFactory =
        std::function<std::unique_ptr<broker::Broker>(unsigned shard, broker::BrokerSink& sink)>;

    ChatEngine(core::ServerContext& context, core::ShardRouter& router,
               const BrokerFactory& make_broker);
    ~ChatEngine();

    unsigned shards() const { return static_cast<unsigned>(hubs_.size()); }
    rooms::Hub& hub(unsigned shard) { return *hubs_[shard]; }
    rooms::RoomOwner& owner(unsigned shard) { return *owners_[shard]; }
    moderation::ModerationDesk& desk(unsigned shard) { return *desks_[shard]; }
    rooms::ServerWide& server_wide() { return server_wide_; }
    meetings::MeetingDesk& meetings(unsigned shard) { return *meeting_desks_[shard]; }
    session::ChatServices services(unsigned shard) {
        return {hub(shard), desk(shard), meetings(shard)};
    }

    // On `shard`: the Hub's sweep, and joins that waited too long.
    void sweep(unsigned shard, core::SteadyTime now);
    // Teardown, after the shards have stopped: nothing is posted any more, then the brokers
    // (which hold the loops' timers and sockets) go.
    void stop_routing();
    void release_brokers();

private:
    std::vector<rooms::Hub*> hubs_;
    std::vector<std::unique_ptr<rooms::Hub>> hub_storage_;
    rooms::ServerWide server_wide_;
    std::vector<std::unique_ptr<rooms::RoomOwner>> owners_;
    std::vector<std::unique_ptr<moderation::ModerationDesk>> desks_;
    std::vector<std::unique_ptr<meetings::MeetingDesk>> meeting_desks_;
};

}  // namespace haven::app
