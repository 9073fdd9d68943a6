// A local HTTP receiver, the stand-in for an operator's on-call system in the webhook tests:
// it listens on 127.0.0.1, answers every request with the status it is told, and keeps what
// it received.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace haven::test {

class HttpReceiver {
public:
    struct Request {
        std::string head;  // request line and header fields, lower-cased names
        std::string body;
    };

    explicit HttpReceiver(unsigned status = 200);
    ~HttpReceiver();
    HttpReceiver(const HttpReceiver&) = delete;
    HttpReceiver& operator=(const HttpReceiver&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/alerts") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    void answer_with(unsigned status) { status_ = status; }
    std::vector<Request> received() const;

private:
    void serve();
    void handle(int client);

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<unsigned> status_;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<Request> received_;
    std::thread thread_;
};

}  // namespace haven::test
