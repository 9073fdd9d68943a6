// Many client connections on one epoll loop, in one thread. Each connection goes
// connect -> HTTP upgrade -> Hello -> Welcome -> Join -> Joined -> ready, at most
// `max_in_flight` of them between connect and Joined at once; ready connections can post.
//
// Cost per delivery is what the generator is judged by (it must stay far cheaper than the
// server), so the receive path is: one read() of up to 1 MiB into a buffer shared by every
// connection, frames parsed in place, the few protobuf fields needed walked by hand, one clock
// read per read() rather than per frame. Only a frame cut by the end of a read is copied, into
// a per-connection carry buffer that keeps its capacity. Nothing is allocated per message.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "latency_histogram.hpp"
#include "ws_framing.hpp"

namespace haven::load {

struct Endpoint {
    sockaddr_in address{};
    std::string host_port;  // for the Host header and the report
};

struct PoolSettings {
    std::vector<Endpoint> servers;  // client i talks to servers[i % size]
    unsigned local_addresses = 16;  // client i binds 127.0.0.(1 + i % n): spreads ephemeral ports
    unsigned max_in_flight = 256;   // connections between connect() and Joined
    // Minimum time between two epoll_wait calls. 0 reacts to every frame at once (exact
    // latencies, but about one read() per delivery at moderate rates); a few hundred µs lets
    // frames pile up in the socket buffers so one read() takes many, at the price of adding
    // up to this much to the measured latencies.
    std::int64_t batch_ns = 0;
    bool room_list = false;  // Hello asks for the room list (omit_rooms = false)
    std::vector<std::string> room_ids;
    std::string post_text;
};

// Cumulative counts; the scenarios subtract snapshots to get one interval's figures.
struct Counters {
    std::uint64_t posts_sent = 0;
    std::uint64_t expected_deliveries = 0;  // sum over posts of the room's ready members then
    std::uint64_t acks = 0;
    std::uint64_t window_deliveries = 0;  // posted events stamped inside the current window
    std::uint64_t late_deliveries = 0;    // stamped before the window (an earlier interval)
    std::uint64_t foreign_posts = 0;      // posted events not stamped by this tool
    std::uint64_t other_events = 0;       // presence, typing, moderation
    std::uint64_t seq_gaps = 0;           // a sequenced event skipped ahead on one connection
    std::uint64_t seq_repeats = 0;        // ... or did not advance
    std::uint64_t errors = 0;             // Error replies
    std::array<std::uint64_t, 32> error_codes{};  // by haven.v1.ErrorCode (31 = anything higher)
    std::uint64_t reconnects = 0;                 // Reconnect (the server is draining)
    std::uint64_t closes = 0;                     // the server closed a connection
    std::uint64_t close_slow_consumer = 0;        // ... with 4008
    std::uint64_t malformed = 0;                  // frames or messages the tool could not read
    std::uint64_t connect_failures = 0;
    std::uint64_t setup_failures = 0;  // upgrade refused, Hello or Join refused, dropped
    std::uint64_t dropped_ready = 0;   // a ready connection ended before teardown
    std::uint64_t reads = 0;           // read() calls that returned data
    std::uint64_t bytes_received = 0;
    std::uint64_t frames_received = 0;

    // Everything that means the run did not go as planned.
    std::uint64_t error_total() const {
        return errors + reconnects + closes + malformed + connect_failures + setup_failures +
               dropped_ready;
    }
};

class ClientPool {
public:
    explicit ClientPool(PoolSettings settings);
    ~ClientPool();  // closes everything with RST (no TIME_WAIT left behind)
    ClientPool(const ClientPool&) = delete;
    ClientPool& operator=(const ClientPool&) = delete;

    // Queues a client for `room`; it connects when an in-flight slot is free. Returns its index.
    std::uint32_t add_client(std::uint32_t room);

    // Starts queued connections, waits up to timeout_ms for events and handles them.
    void poll(int timeout_ms);

    // Sends one post from a ready client (stamped with the current time). False if not ready.
    bool post(std::uint32_t client);

    // Deliveries stamped at or after `start_ns` are counted as window deliveries and their
    // latency recorded in `histogram` (which must outlive the window).
    void set_window(std::int64_t start_ns, LatencyHistogram* histogram);

    // Closes every connection now (RST).
    void close_all();

    const Counters& counters() const { return counters_; }
    std::size_t clients() const { return clients_.size(); }
    unsigned ready() const { return ready_; }
    unsigned failed() const { return failed_; }
    bool setup_done() const { return ready_ + failed_ == clients_.size(); }
    bool is_ready(std::uint32_t client) const;
    unsigned room_size(std::uint32_t room) const { return room_sizes_[room]; }
    std::int64_t last_frame_ns() const { return last_frame_ns_; }
    std::int64_t last_joined_ns() const { return last_joined_ns_; }
    // Time from starting to connect to Joined, per client.
    const LatencyHistogram& join_latency() const { return join_latency_; }
    // The first few error descriptions, for the report.
    const std::vector<std::string>& error_samples() const { return error_samples_; }

private:
    enum class State : std::uint8_t {
        queued,
        connecting,
        upgrading,
        hello,
        joining,
        ready,
        closed
    };

    struct Client {
        int fd = -1;
        State state = State::queued;
        bool fragmented = false;  // a fragmented message is being reassembled
        std::uint32_t room = 0;
        std::uint64_t last_seq = 0;      // of the room, as this connection saw it
        std::uint64_t next_request = 0;  // request id of the next post
        std::int64_t last_stamp = 0;     // publish stamps strictly increase per client
        std::int64_t started_ns = 0;
        std::size_t pending_frame = 0;  // total size of the frame cut by the last read
        std::vector<char> carry;        // bytes of a frame (or HTTP head) cut by a read
        std::vector<char> fragments;    // payload of a fragmented message so far
        std::vector<char> out;          // bytes the socket did not take yet
        std::size_t out_sent = 0;
    };

    void start_connect(std::uint32_t index);
    void on_event(std::uint32_t index, std::uint32_t events);
    void on_connected(std::uint32_t index);
    void on_readable(std::uint32_t index);
    // Handles the bytes of one read; returns how many were consumed (the rest is carried).
    std::size_t consume(std::uint32_t index, const char* data, std::size_t size, std::int64_t now);
    void on_frame(std::uint32_t index, const ws::FrameHeader& header, const char* payload,
                  std::int64_t now);
    void on_message(std::uint32_t index, const char* data, std::size_t size, std::int64_t now);
    void send_frame(std::uint32_t index, ws::Opcode opcode, const char* payload, std::size_t size);
    void send_bytes(std::uint32_t index, const char* data, std::size_t size);
    void flush(std::uint32_t index);
    void fail(std::uint32_t index);
    void note_error(std::string text);

    PoolSettings settings_;
    int epoll_fd_ = -1;
    std::vector<Client> clients_;
    std::vector<unsigned> room_sizes_;
    std::vector<std::string> upgrade_requests_;  // one per server
    std::uint32_t next_to_start_ = 0;
    unsigned in_flight_ = 0;
    unsigned ready_ = 0;
    unsigned failed_ = 0;
    std::uint32_t mask_key_ = 0;

    std::vector<char> read_buffer_;   // shared by all connections
    std::vector<char> post_buffer_;   // one post's protobuf bytes being built
    std::vector<char> frame_buffer_;  // one outgoing frame being built

    Counters counters_;
    std::int64_t window_start_ns_ = INT64_MAX;
    LatencyHistogram* window_histogram_ = nullptr;
    LatencyHistogram join_latency_;
    std::int64_t last_frame_ns_ = 0;
    std::int64_t last_joined_ns_ = 0;
    std::int64_t last_wait_ns_ = 0;
    std::vector<std::string> error_samples_;
};

}  // namespace haven::load
