#include "support/http_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace haven::test {

HttpReceiver::HttpReceiver(unsigned status) : status_(status) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) throw std::runtime_error("http receiver: no socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(listener_);
        throw std::runtime_error("http receiver: cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
}

HttpReceiver::~HttpReceiver() {
    stopping_ = true;
    thread_.join();
    ::close(listener_);
}

std::vector<HttpReceiver::Request> HttpReceiver::received() const {
    const std::lock_guard lock(mutex_);
    return received_;
}

void HttpReceiver::serve() {
    while (!stopping_) {
        pollfd ready{listener_, POLLIN, 0};
        if (::poll(&ready, 1, 50) <= 0) continue;  // wakes up to notice stopping_
        const int client = ::accept(listener_, nullptr, nullptr);
        if (client >= 0) handle(client);
    }
}

// One request per connection, read to the end of its Content-Length body (bounded: a test
// receiver, not a server), then the answer and the close.
void HttpReceiver::handle(int client) {
    std::string data;
    char buffer[4096];
    std::size_t body_start = std::string::npos;
    std::size_t wanted = 0;
    for (int turns = 0; turns < 200 && data.size() < (1 << 20); ++turns) {
        pollfd ready{client, POLLIN, 0};
        if (::poll(&ready, 1, 100) <= 0) continue;
        const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        data.append(buffer, static_cast<std::size_t>(got));
        if (body_start == std::string::npos) {
            const std::size_t end = data.find("\r\n\r\n");
            if (end == std::string::npos) continue;
            body_start = end + 4;
            std::string head = data.substr(0, end);
            std::transform(head.begin(), head.end(), head.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            const std::size_t field = head.find("content-length:");
            if (field != std::string::npos) wanted = std::stoul(head.substr(field + 15));
        }
        if (data.size() >= body_start + wanted) break;
    }
    if (body_start != std::string::npos) {
        std::string head = data.substr(0, body_start - 4);
        std::transform(head.begin(), head.end(), head.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const std::lock_guard lock(mutex_);
        received_.push_back({std::move(head), data.substr(body_start, wanted)});
    }
    const std::string answer = "HTTP/1.1 " + std::to_string(status_.load()) +
                               " Answer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(client);
}

}  // namespace haven::test
