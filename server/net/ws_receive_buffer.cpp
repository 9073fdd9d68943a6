#include "net/ws_receive_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace haven::net::ws {

ReceiveBuffer::ReceiveBuffer(Storage storage, const config::LimitsConfig& limits)
    : reader_(limits.max_frame_bytes),
      frame_limit_(limits.max_frame_bytes + kMaxClientHeader),
      storage_(storage) {}

void ReceiveBuffer::hold_early_bytes(std::string_view bytes) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    buffer_.assign(data, data + bytes.size());
    buffered_ = buffer_.size();
}

void ReceiveBuffer::open(FrameHandler& handler) {
    if (storage_ == Storage::own) buffer_.resize(std::max(buffer_.size(), kInitialBuffer));
    if (buffered_ == 0) return;
    keep_rest(read_frames(buffer_.data(), buffered_, handler));
    if (storage_ == Storage::shared && (buffered_ == 0 || stopped())) release();
}

void ReceiveBuffer::receive(std::uint8_t* data, std::size_t size, FrameHandler& handler) {
    if (stopped()) {
        // Read and dropped.
    } else if (buffered_ == 0) {
        // The usual case: whole frames, handled where they were read.
        const std::size_t used = read_frames(data, size, handler);
        if (!stopped() && used < size) {
            buffer_.assign(data + used, data + size);
            buffered_ = buffer_.size();
        }
    } else {
        buffer_.insert(buffer_.end(), data, data + size);
        buffered_ = buffer_.size();
        keep_rest(read_frames(buffer_.data(), buffered_, handler));
    }
    if (buffered_ == 0 || stopped()) release();
}

boost::asio::mutable_buffer ReceiveBuffer::prepare() {
    if (buffered_ == buffer_.size()) {
        grow_for(buffer_.size() + 1);
    } else if (filled_ && buffer_.size() < kBusyBuffer) {
        grow_for(std::min(buffer_.size() * 2, kBusyBuffer));
    }
    return boost::asio::buffer(buffer_.data() + buffered_, buffer_.size() - buffered_);
}

void ReceiveBuffer::commit(std::size_t bytes, FrameHandler& handler) {
    filled_ = buffered_ + bytes == buffer_.size();
    buffered_ += bytes;
    if (stopped()) {
        buffered_ = 0;  // read and dropped
        return;
    }
    keep_rest(read_frames(buffer_.data(), buffered_, handler));
    // A large message or a burst made the buffer grow; give the memory back once the
    // connection is quiet again.
    if (!filled_ && buffered_ <= kInitialBuffer && buffer_.size() > kInitialBuffer) {
        buffer_.resize(kInitialBuffer);
        buffer_.shrink_to_fit();
    }
}

std::size_t ReceiveBuffer::read_frames(std::uint8_t* data, std::size_t size,
                                       FrameHandler& handler) {
    const FrameReader::Result result = reader_.process(data, size, handler);
    // An own buffer holds a whole frame before it is handled (buffer_ may move: only offsets
    // are kept).
    if (storage_ == Storage::own && result.needed > 0) grow_for(result.needed);
    return result.used;
}

void ReceiveBuffer::keep_rest(std::size_t used) {
    if (stopped()) {
        buffered_ = 0;  // whatever follows a failure or a close is not read
        return;
    }
    std::memmove(buffer_.data(), buffer_.data() + used, buffered_ - used);
    buffered_ -= used;
    if (storage_ == Storage::shared) buffer_.resize(buffered_);
}

void ReceiveBuffer::release() {
    buffered_ = 0;
    std::vector<std::uint8_t>().swap(buffer_);
}

void ReceiveBuffer::grow_for(std::size_t needed) {
    const std::size_t limit = frame_limit_;
    std::size_t size = std::max<std::size_t>(buffer_.size(), kInitialBuffer);
    while (size < needed && size < limit) size *= 2;
    // Only ever grows: what the buffer holds may be more than one frame's limit (a busy peer's
    // reads, or an idle buffer larger than a small max_frame_bytes).
    const std::size_t target = std::min(std::max(size, needed), std::max(limit, needed));
    if (target > buffer_.size()) buffer_.resize(target);
}

}  // namespace haven::net::ws
