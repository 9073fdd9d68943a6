#include "rooms/room_fanout.hpp"

#include <optional>

#include "protocol/frame_batch.hpp"

namespace haven::rooms {
RoomFanout::RoomFanout(const Members& members, core::ShardCounters& counters, Schedule schedule,
                       std::chrono::milliseconds presence_delay)
    : members_(members),
      counters_(counters),
      schedule_(std::move(schedule)),
      presence_delay_(presence_delay) {}

void RoomFanout::add(EventRef event) {
    const bool may_wait = event->presence && presence_delay_.count() > 0;
    Queued& queued = pending_[event->room_id];
    const bool was_empty = queued.segments.empty();
    if (was_empty || queued.segments.back().audience != kEveryone) queued.segments.emplace_back();
    queued.segments.back().events.push_back(event);
    if (!may_wait) {
        if (!queued.this_turn) {
            queued.this_turn = true;
            this_turn_.push_back(event->room_id);
        }
        if (!turn_scheduled_) {
            turn_scheduled_ = true;
            schedule_(std::chrono::milliseconds(0), [this] { flush(); });
        }
    } else if (was_empty) {
        waiting_.push_back(event->room_id);
        if (!presence_scheduled_) {
            presence_scheduled_ = true;
            schedule_(presence_delay_, [this] { flush_presence(); });
        }
    }
}

void RoomFanout::flush() {
    turn_scheduled_ = false;
    // Writing to a connection never calls back into the chat logic, so nothing is queued
    // while this runs.
    for (const std::string& room_id : this_turn_) flush_room(room_id);
    this_turn_.clear();
}

void RoomFanout::flush_presence() {
    presence_scheduled_ = false;
    for (const std::string& room_id : waiting_) flush_room(room_id);
    waiting_.clear();
}

void RoomFanout::flush_room(const std::string& room_id) {
    auto found = pending_.find(room_id);
    if (found == pending_.end()) return;
    const std::vector<Segment> segments = std::move(found->second.segments);
    pending_.erase(found);
    if (!segments.empty()) deliver(room_id, segments);
}

void RoomFanout::discard() {
    pending_.clear();
    this_turn_.clear();
    waiting_.clear();
    // Left set: nothing is scheduled again.
    turn_scheduled_ = true;
    presence_scheduled_ = true;
}

void RoomFanout::before_member_added(const std::string& room_id) {
    auto found = pending_.find(room_id);
    if (found == pending_.end()) return;
    if (found->second.this_turn) return flush_room(room_id);
    // Only presence waits: it stays addressed to the members already here.
    auto members = members_.find(room_id);
    Segment& open = found->second.segments.back();
    if (open.audience == kEveryone)
        open.audience = members == members_.end() ? 0 : members->second.size();
}

void RoomFanout::deliver(const std::string& room_id, const std::vector<Segment>& segments) {
    auto found = members_.find(room_id);
    if (found == members_.end()) return;
    const std::vector<LocalSession*>& members = found->second;

    // Member i gets the segments whose audience includes it: audiences only grow along the
    // queue, so that is every segment from some first one on. One batch per such suffix and
    // encoding, built when a member first needs it.
    const std::size_t count = segments.size();
    std::vector<std::size_t> events_from(count + 1, 0);  // events in segments [k, count)
    for (std::size_t k = count; k-- > 0;) {
        events_from[k] = events_from[k + 1] + segments[k].events.size();
    }
    std::vector<std::optional<protocol::FrameBatch>> binary(count);
    std::vector<std::optional<protocol::FrameBatch>> json(count);
    auto batch_from = [&](std::size_t first, protocol::Encoding encoding) -> protocol::FrameBatch& {
        auto& cache = encoding == protocol::Encoding::json ? json : binary;
        if (!cache[first]) {
            std::vector<protocol::Frame> frames;
            frames.reserve(events_from[first]);
            for (std::size_t k = first; k < count; ++k) {
                for (const EventRef& event : segments[k].events) {
                    if (const protocol::Frame& frame = event->frame(encoding))
                        frames.push_back(frame);
                }
            }
            cache[first] = protocol::make_frame_batch(std::move(frames), encoding);
        }
        return *cache[first];
    };

    std::size_t first = 0;
    std::size_t delivered = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
        while (first < count && segments[first].audience <= i) ++first;
        if (first == count) break;  // this member and those after it arrived later
        LocalSession* member = members[i];
        delivered += events_from[first];
        if (events_from[first] == 1) {
            member->deliver(*segments[first].events.front());
        } else {
            member->send_batch(batch_from(first, member->encoding()));
        }
    }
    counters_.add(counters_.deliveries, delivered);
}

}  // namespace haven::rooms
