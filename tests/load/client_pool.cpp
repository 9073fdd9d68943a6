// The load generator's connections: non-blocking sockets, the upgrade, framing and timing. Over
// 400 lines: one epoll loop and the state it drives, kept together so the timing stays readable.
#include "client_pool.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <system_error>

#include <time.h>

#include "clock.hpp"
#include "wire.hpp"

namespace haven::load {
namespace {

constexpr std::size_t kReadBufferBytes = 1 << 20;
constexpr int kMaxEvents = 1024;
constexpr std::size_t kMaxErrorSamples = 8;
constexpr std::uint16_t kCloseSlowConsumer = 4008;

}  // namespace

ClientPool::ClientPool(PoolSettings settings)
    : settings_(std::move(settings)), read_buffer_(kReadBufferBytes) {
    if (settings_.servers.empty()) throw std::invalid_argument("no server to connect to");
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    room_sizes_.assign(settings_.room_ids.size(), 0);
    for (const Endpoint& server : settings_.servers) {
        upgrade_requests_.push_back(ws::upgrade_request(server.host_port));
    }
    std::size_t longest_room = 0;
    for (const std::string& room : settings_.room_ids)
        longest_room = std::max(longest_room, room.size());
    post_buffer_.resize(wire::post_bytes_bound(longest_room, settings_.post_text.size()));
    frame_buffer_.resize(ws::kMaxClientHeader + post_buffer_.size() + 256);
    mask_key_ = std::random_device{}() | 1u;  // never 0, so masking really happens
}

ClientPool::~ClientPool() {
    close_all();
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::uint32_t ClientPool::add_client(std::uint32_t room) {
    Client client;
    client.room = room;
    client.next_request = wire::kFirstPostId;
    clients_.push_back(std::move(client));
    return static_cast<std::uint32_t>(clients_.size() - 1);
}

bool ClientPool::is_ready(std::uint32_t client) const {
    return clients_[client].state == State::ready;
}

void ClientPool::set_window(std::int64_t start_ns, LatencyHistogram* histogram) {
    window_start_ns_ = start_ns;
    window_histogram_ = histogram;
}

void ClientPool::close_all() {
    for (Client& client : clients_) {
        if (client.fd < 0) continue;
        // RST instead of FIN: tearing down thousands of connections must not leave thousands
        // of TIME_WAIT entries holding the ports the next run wants.
        const linger hard{1, 0};
        ::setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(client.fd);
        client.fd = -1;
        if (client.state == State::ready) {
            --ready_;
            --room_sizes_[client.room];
        }
        client.state = State::closed;
    }
    in_flight_ = 0;
}

void ClientPool::poll(int timeout_ms) {
    while (in_flight_ < settings_.max_in_flight && next_to_start_ < clients_.size()) {
        start_connect(next_to_start_++);
    }
    if (settings_.batch_ns > 0) {
        const std::int64_t wake = last_wait_ns_ + settings_.batch_ns;
        const std::int64_t now = now_ns();
        if (now < wake) {
            const timespec pause{0, static_cast<long>(wake - now)};
            ::nanosleep(&pause, nullptr);
            timeout_ms = 0;  // the pause was the wait
        }
    }
    epoll_event events[kMaxEvents];
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    last_wait_ns_ = now_ns();
    if (n < 0) {
        if (errno == EINTR) return;
        throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i)
        on_event(static_cast<std::uint32_t>(events[i].data.u64), events[i].events);
}

void ClientPool::start_connect(std::uint32_t index) {
    Client& client = clients_[index];
    client.started_ns = now_ns();
    ++in_flight_;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        note_error(std::string("socket: ") + std::strerror(errno));
        ++counters_.connect_failures;
        return fail(index);
    }
    client.fd = fd;
    const int one = 1;
    // Posts are small and latency is what is measured: no Nagle delay.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Choose the port at connect() time, per (source, destination) pair, instead of at bind()
    // time across everything bound to the source address.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = 0;
    local.sin_addr.s_addr =
        htonl((127u << 24) | (1u + index % std::max(1u, settings_.local_addresses)));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        note_error(std::string("bind: ") + std::strerror(errno));
        ++counters_.connect_failures;
        return fail(index);
    }
    const Endpoint& server = settings_.servers[index % settings_.servers.size()];
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&server.address), sizeof server.address) !=
            0 &&
        errno != EINPROGRESS) {
        note_error(std::string("connect: ") + std::strerror(errno));
        ++counters_.connect_failures;
        return fail(index);
    }
    client.state = State::connecting;
    // Edge-triggered: a connection is reported once per new batch of data, and the read loop
    // drains it; EPOLLOUT then only fires when a full send buffer gets room again.
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = index;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        note_error(std::string("epoll_ctl: ") + std::strerror(errno));
        ++counters_.connect_failures;
        return fail(index);
    }
}

void ClientPool::on_event(std::uint32_t index, std::uint32_t events) {
    Client& client = clients_[index];
    if (client.fd < 0) return;
    if (client.state == State::connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(client.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            note_error(std::string("connect: ") + std::strerror(error));
            ++counters_.connect_failures;
            return fail(index);
        }
        on_connected(index);
        if (client.fd < 0) return;
    } else if ((events & EPOLLOUT) != 0 && !client.out.empty()) {
        flush(index);
        if (client.fd < 0) return;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) on_readable(index);
}

void ClientPool::on_connected(std::uint32_t index) {
    Client& client = clients_[index];
    client.state = State::upgrading;
    const std::string& request = upgrade_requests_[index % upgrade_requests_.size()];
    send_bytes(index, request.data(), request.size());
}

void ClientPool::on_readable(std::uint32_t index) {
    for (;;) {
        Client& client = clients_[index];
        if (client.fd < 0) return;
        // Put the cut frame from the previous read in front of the new bytes, so every frame is
        // parsed from one contiguous buffer. The buffer grows (rarely, for a message larger
        // than 1 MiB) so a whole frame always fits.
        const std::size_t carried = client.carry.size();
        const std::size_t wanted = std::max(carried, client.pending_frame) + kReadBufferBytes / 2;
        if (read_buffer_.size() < wanted) read_buffer_.resize(wanted);
        char* buffer = read_buffer_.data();
        if (carried > 0) std::memcpy(buffer, client.carry.data(), carried);
        const std::size_t room = read_buffer_.size() - carried;
        const ssize_t n = ::read(client.fd, buffer + carried, room);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // carry stays as it was
            if (errno == EINTR) continue;
            if (client.state != State::ready) ++counters_.setup_failures;
            return fail(index);
        }
        if (n == 0) {
            // The server closed the TCP connection (after a close frame, or without one).
            if (client.state != State::ready) {
                ++counters_.setup_failures;
                note_error("connection closed during setup");
            }
            return fail(index);
        }
        const std::int64_t now = now_ns();
        ++counters_.reads;
        counters_.bytes_received += static_cast<std::uint64_t>(n);
        const std::size_t total = carried + static_cast<std::size_t>(n);
        const std::size_t used = consume(index, buffer, total, now);
        Client& after = clients_[index];
        if (after.fd < 0) return;
        after.carry.assign(buffer + used, buffer + total);
        // A short read means the socket is drained for now; the next edge will say when more
        // arrives. Saves one read() returning EAGAIN per wake-up.
        if (static_cast<std::size_t>(n) < room) return;
    }
}

std::size_t ClientPool::consume(std::uint32_t index, const char* data, std::size_t size,
                                std::int64_t now) {
    std::size_t pos = 0;
    if (clients_[index].state == State::upgrading) {
        std::size_t head = 0;
        std::string why;
        switch (ws::parse_upgrade_response(std::string_view(data, size), head, why)) {
            case ws::UpgradeStatus::incomplete:
                return 0;
            case ws::UpgradeStatus::refused:
                note_error(why);
                ++counters_.setup_failures;
                fail(index);
                return size;
            case ws::UpgradeStatus::accepted:
                break;
        }
        pos = head;
        clients_[index].state = State::hello;
        const std::string hello = wire::encode_hello(wire::kHelloId, settings_.room_list);
        send_frame(index, ws::binary, hello.data(), hello.size());
    }
    while (pos < size) {
        ws::FrameHeader header;
        const ws::ParseResult result = ws::parse_frame_header(data + pos, size - pos, header);
        if (result == ws::ParseResult::need_more) break;
        if (result == ws::ParseResult::protocol_error) {
            ++counters_.malformed;
            note_error("WebSocket protocol error in a server frame");
            fail(index);
            return size;
        }
        const std::size_t frame_size = header.header_bytes + header.payload_bytes;
        if (size - pos < frame_size) {
            clients_[index].pending_frame = frame_size;
            break;
        }
        clients_[index].pending_frame = 0;
        ++counters_.frames_received;
        on_frame(index, header, data + pos + header.header_bytes, now);
        if (clients_[index].fd < 0) return size;
        pos += frame_size;
    }
    last_frame_ns_ = now;
    return pos;
}

void ClientPool::on_frame(std::uint32_t index, const ws::FrameHeader& header, const char* payload,
                          std::int64_t now) {
    Client& client = clients_[index];
    const std::size_t size = header.payload_bytes;
    switch (header.opcode) {
        case ws::binary:
        case ws::text:
            if (header.fin && !client.fragmented) return on_message(index, payload, size, now);
            // The first fragment of a large message (a Joined with a long member list):
            // reassembled in the connection's own buffer, a path events never take.
            client.fragmented = true;
            client.fragments.assign(payload, payload + size);
            return;
        case ws::continuation:
            if (!client.fragmented) {
                ++counters_.malformed;
                return;
            }
            client.fragments.insert(client.fragments.end(), payload, payload + size);
            if (header.fin) {
                client.fragmented = false;
                on_message(index, client.fragments.data(), client.fragments.size(), now);
                if (clients_[index].fd >= 0) clients_[index].fragments.clear();
            }
            return;
        case ws::ping:
            // Beast pings quiet connections; a pong keeps them open.
            return send_frame(index, ws::pong, payload, size);
        case ws::pong:
            return;
        case ws::close: {
            std::uint16_t code = 1005;
            if (size >= 2) {
                code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                  static_cast<std::uint8_t>(payload[1]));
            }
            ++counters_.closes;
            if (code == kCloseSlowConsumer) ++counters_.close_slow_consumer;
            note_error("server closed a connection with code " + std::to_string(code));
            const bool in_setup = client.state != State::ready;
            if (in_setup) ++counters_.setup_failures;
            return fail(index);
        }
        default:
            ++counters_.malformed;
            return;
    }
}

void ClientPool::on_message(std::uint32_t index, const char* data, std::size_t size,
                            std::int64_t now) {
    Client& client = clients_[index];
    const wire::Summary message = wire::summarize(data, size);
    const auto track_seq = [&](std::uint64_t seq) {
        if (seq == 0) return;  // live-only events (presence, typing) carry no sequence
        if (client.last_seq != 0) {
            if (seq > client.last_seq + 1) ++counters_.seq_gaps;
            if (seq <= client.last_seq) ++counters_.seq_repeats;
        }
        client.last_seq = std::max(client.last_seq, seq);
    };
    switch (message.kind) {
        case wire::Kind::event_posted:
            if (message.sent_ns < 0) {
                ++counters_.foreign_posts;
            } else if (message.sent_ns >= window_start_ns_) {
                ++counters_.window_deliveries;
                window_histogram_->record_ns(now - message.sent_ns);
            } else {
                ++counters_.late_deliveries;
            }
            track_seq(message.seq);
            return;
        case wire::Kind::event_other:
            ++counters_.other_events;
            track_seq(message.seq);
            return;
        case wire::Kind::ack:
            ++counters_.acks;
            return;
        case wire::Kind::welcome:
            if (client.state == State::hello && message.request_id == wire::kHelloId) {
                client.state = State::joining;
                const std::string join =
                    wire::encode_join(wire::kJoinId, settings_.room_ids[client.room]);
                send_frame(index, ws::binary, join.data(), join.size());
            }
            return;
        case wire::Kind::joined:
            if (client.state == State::joining && message.request_id == wire::kJoinId) {
                client.state = State::ready;
                client.last_seq = message.seq;
                ++ready_;
                --in_flight_;
                ++room_sizes_[client.room];
                join_latency_.record_ns(now - client.started_ns);
                last_joined_ns_ = now;
            }
            return;
        case wire::Kind::error:
            ++counters_.errors;
            ++counters_.error_codes[std::min<std::uint32_t>(message.error_code, 31)];
            if (error_samples_.size() < kMaxErrorSamples)
                note_error(wire::describe_error(message.body));
            if (client.state == State::hello || client.state == State::joining) {
                ++counters_.setup_failures;
                fail(index);
            }
            return;
        case wire::Kind::reconnect:
            ++counters_.reconnects;
            return;
        case wire::Kind::malformed:
            ++counters_.malformed;
            return;
        case wire::Kind::other:
            return;
    }
}

bool ClientPool::post(std::uint32_t index) {
    Client& client = clients_[index];
    if (client.state != State::ready) return false;
    std::int64_t stamp = now_ns();
    if (stamp <= client.last_stamp) stamp = client.last_stamp + 1;  // ids must stay unique
    client.last_stamp = stamp;
    const std::size_t size = wire::encode_post(post_buffer_.data(), client.next_request++,
                                               settings_.room_ids[client.room], settings_.post_text,
                                               static_cast<std::uint64_t>(stamp));
    ++counters_.posts_sent;
    counters_.expected_deliveries += room_sizes_[client.room];
    send_frame(index, ws::binary, post_buffer_.data(), size);
    return true;
}

void ClientPool::send_frame(std::uint32_t index, ws::Opcode opcode, const char* payload,
                            std::size_t size) {
    if (frame_buffer_.size() < size + ws::kMaxClientHeader)
        frame_buffer_.resize(size + ws::kMaxClientHeader);
    const std::size_t n =
        ws::write_client_frame(frame_buffer_.data(), opcode, payload, size, mask_key_);
    send_bytes(index, frame_buffer_.data(), n);
}

void ClientPool::send_bytes(std::uint32_t index, const char* data, std::size_t size) {
    Client& client = clients_[index];
    if (client.fd < 0) return;
    if (!client.out.empty()) {  // keep order behind what is already waiting
        client.out.insert(client.out.end(), data, data + size);
        return;
    }
    const ssize_t n = ::send(client.fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        const bool in_setup = client.state != State::ready;
        if (in_setup) ++counters_.setup_failures;
        return fail(index);
    }
    const std::size_t sent = n < 0 ? 0 : static_cast<std::size_t>(n);
    if (sent < size) {
        client.out.assign(data + sent, data + size);
        client.out_sent = 0;
    }
}

void ClientPool::flush(std::uint32_t index) {
    Client& client = clients_[index];
    while (client.out_sent < client.out.size()) {
        const ssize_t n = ::send(client.fd, client.out.data() + client.out_sent,
                                 client.out.size() - client.out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            const bool in_setup = client.state != State::ready;
            if (in_setup) ++counters_.setup_failures;
            return fail(index);
        }
        client.out_sent += static_cast<std::size_t>(n);
    }
    client.out.clear();
    client.out_sent = 0;
}

void ClientPool::fail(std::uint32_t index) {
    Client& client = clients_[index];
    if (client.fd >= 0) {
        ::close(client.fd);  // also removes it from the epoll set
        client.fd = -1;
    }
    if (client.state == State::closed) return;
    if (client.state == State::ready) {
        --ready_;
        --room_sizes_[client.room];
        ++counters_.dropped_ready;
    } else {
        --in_flight_;
        ++failed_;
    }
    client.state = State::closed;
    client.carry.clear();
    client.out.clear();
}

void ClientPool::note_error(std::string text) {
    if (error_samples_.size() < kMaxErrorSamples) error_samples_.push_back(std::move(text));
}

}  // namespace haven::load
