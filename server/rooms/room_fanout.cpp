#include "rooms/room_fanout.hpp"

#include "net/ws_frames.hpp"
#include "session/client_session.hpp"

namespace haven::rooms {
namespace {

protocol::FrameBatch make_batch(const std::vector<RoomFanout::EventRef>& events,
                                protocol::Encoding encoding) {
    protocol::FrameBatch batch;
    batch.frames.reserve(events.size());
    for (const auto& event : events) {
        if (const protocol::Frame& frame = event->frame(encoding)) batch.frames.push_back(frame);
    }
    const auto opcode = encoding == protocol::Encoding::json ? net::ws::text : net::ws::binary;
    batch.wire = std::make_shared<const std::string>(net::ws::server_frames(opcode, batch.frames));
    return batch;
}

}  // namespace

RoomFanout::RoomFanout(const Members& members, core::ShardCounters& counters,
                       std::function<void()> schedule)
    : members_(members), counters_(counters), schedule_(std::move(schedule)) {}

void RoomFanout::add(EventRef event) {
    std::vector<EventRef>& queued = pending_[event->room_id];
    if (queued.empty()) order_.push_back(event->room_id);
    queued.push_back(std::move(event));
    if (!scheduled_) {
        scheduled_ = true;
        schedule_();
    }
}

void RoomFanout::flush() {
    scheduled_ = false;
    // Writing to a connection never calls back into the chat logic, so nothing is queued
    // while this runs.
    for (const std::string& room_id : order_) flush_room(room_id);
    order_.clear();
}

void RoomFanout::flush_room(const std::string& room_id) {
    auto found = pending_.find(room_id);
    if (found == pending_.end()) return;
    std::vector<EventRef> events = std::move(found->second);
    pending_.erase(found);
    if (!events.empty()) deliver(room_id, std::move(events));
}

void RoomFanout::deliver(const std::string& room_id, std::vector<EventRef> events) {
    auto found = members_.find(room_id);
    if (found == members_.end()) return;
    const std::vector<session::ClientSession*>& members = found->second;
    counters_.add(counters_.deliveries, members.size() * events.size());
    if (events.size() == 1) {
        for (session::ClientSession* member : members) member->deliver(*events.front());
        return;
    }
    // Batches only for the encodings this room's members use here.
    std::optional<protocol::FrameBatch> binary;
    std::optional<protocol::FrameBatch> json;
    for (session::ClientSession* member : members) {
        const protocol::Encoding encoding = member->encoding();
        std::optional<protocol::FrameBatch>& batch =
            encoding == protocol::Encoding::json ? json : binary;
        if (!batch) batch = make_batch(events, encoding);
        member->send_batch(*batch);
    }
}

}  // namespace haven::rooms
