#include "net/ws_outbound_queue.hpp"

#include <algorithm>
#include <utility>

namespace haven::net::ws {

namespace asio = boost::asio;

bool OutboundQueue::fits(std::size_t bytes, std::size_t frames,
                         const config::LimitsConfig& limits) const {
    return queue_.empty() || (queued_frames_ + frames <= limits.outbound_queue_messages &&
                              queued_bytes_ + bytes <= limits.outbound_queue_bytes);
}

void OutboundQueue::push(std::uint8_t opcode, protocol::Frame payload) {
    const protocol::ws::ServerHeader header = protocol::ws::server_header(opcode, payload->size());
    push_entry(header, 1, std::move(payload));
}

void OutboundQueue::push_framed(std::size_t frames, protocol::Frame wire) {
    push_entry(protocol::ws::ServerHeader{}, frames, std::move(wire));
}

void OutboundQueue::push_pong(protocol::Frame payload) {
    push(pong, std::move(payload));
    waiting_pong_ = popped_ + queue_.size() - 1;
}

bool OutboundQueue::replace_waiting_pong(const protocol::Frame& payload) {
    if (!waiting_pong_) return false;
    Entry& waiting = queue_[*waiting_pong_ - popped_];
    queued_bytes_ -= waiting.payload->size();
    queued_bytes_ += payload->size();
    waiting.header = protocol::ws::server_header(pong, payload->size());
    waiting.payload = payload;
    return true;
}

std::size_t OutboundQueue::gather(std::vector<asio::const_buffer>& gather) {
    return gather_into(gather, nullptr);
}

void OutboundQueue::gather_in_flight(std::vector<asio::const_buffer>& gather,
                                     std::vector<protocol::ws::ServerHeader>& header_copies) {
    in_flight_ = gather_into(gather, &header_copies);
}

std::size_t OutboundQueue::gather_into(std::vector<asio::const_buffer>& gather,
                                       std::vector<protocol::ws::ServerHeader>* header_copies) {
    const std::size_t count = std::min(queue_.size(), kMaxFramesPerWrite);
    waiting_pong_.reset();  // handed to a write: no longer replaceable
    gather.clear();
    if (header_copies != nullptr) {
        header_copies->clear();
        header_copies->reserve(count);  // no reallocation below: the pointers stay valid
    }
    std::size_t skip = front_sent_;
    for (std::size_t i = 0; i < count; ++i) {
        const Entry& out = queue_[i];
        const protocol::ws::ServerHeader* header = &out.header;
        if (header_copies != nullptr) {
            header_copies->push_back(out.header);
            header = &header_copies->back();
        }
        for (asio::const_buffer part :
             {asio::const_buffer(header->bytes.data(), header->size),
              asio::const_buffer(out.payload->data(), out.payload->size())}) {
            if (skip >= part.size()) {
                skip -= part.size();
                continue;
            }
            gather.push_back(part + skip);
            skip = 0;
        }
    }
    return count;
}

void OutboundQueue::consume(std::size_t bytes) {
    while (bytes > 0 && !queue_.empty()) {
        const Entry& front = queue_.front();
        const std::size_t left = front.header.size + front.payload->size() - front_sent_;
        if (bytes < left) {
            front_sent_ += bytes;
            return;
        }
        bytes -= left;
        front_sent_ = 0;
        pop_front();
    }
}

void OutboundQueue::complete_in_flight() {
    for (std::size_t i = 0; i < in_flight_ && !queue_.empty(); ++i) pop_front();
    front_sent_ = 0;
    in_flight_ = 0;
}

void OutboundQueue::drop_unsent() {
    const std::size_t keep = std::max(in_flight_, front_sent_ > 0 ? std::size_t{1} : 0);
    waiting_pong_.reset();
    while (queue_.size() > keep) {
        queued_bytes_ -= queue_.back().payload->size();
        queued_frames_ -= queue_.back().frames;
        queue_.pop_back();
    }
}

void OutboundQueue::clear() {
    waiting_pong_.reset();
    popped_ += queue_.size();
    queue_.clear();
    queued_bytes_ = 0;
    queued_frames_ = 0;
    front_sent_ = 0;
}

void OutboundQueue::push_entry(const protocol::ws::ServerHeader& header, std::size_t frames,
                               protocol::Frame payload) {
    queued_bytes_ += payload->size();
    queued_frames_ += frames;
    queue_.push_back(Entry{header, static_cast<std::uint32_t>(frames), std::move(payload)});
}

void OutboundQueue::pop_front() {
    queued_bytes_ -= queue_.front().payload->size();
    queued_frames_ -= queue_.front().frames;
    queue_.pop_front();
    ++popped_;
}

}  // namespace haven::net::ws
