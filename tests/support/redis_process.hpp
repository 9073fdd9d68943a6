// A real redis-server for tests: its own free loopback port and its own temporary directory
// (append-only file on, so a restart keeps what was acknowledged, like a production Redis
// with persistence), removed when the test is done.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "support/server_process.hpp"

namespace haven::test {

class RedisProcess {
public:
    RedisProcess();
    ~RedisProcess();  // kills the server and removes its directory
    RedisProcess(const RedisProcess&) = delete;
    RedisProcess& operator=(const RedisProcess&) = delete;

    // Starts (or restarts, on the same port and data) and waits until it answers PING.
    bool start(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Stops it (SIGTERM, then SIGKILL after a while) and waits for the exit.
    void stop();
    bool running() const { return pid_ > 0; }

    std::uint16_t port() const { return port_; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

    // Sends one command in the inline protocol and returns the raw reply ("" on failure).
    std::string command(const std::string& inline_command) const;

private:
    TempDir dir_;
    std::uint16_t port_;
    pid_t pid_ = -1;
};

// Whether redis-server can be found on PATH (the test scripts install it).
bool redis_available();

}  // namespace haven::test
