#include "support/redis_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace haven::test {
namespace {

std::string exchange(std::uint16_t port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
        char buffer[4096];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) reply.assign(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return reply;
}

}  // namespace

bool redis_available() {
    return std::system("command -v redis-server >/dev/null 2>&1") == 0;
}

RedisProcess::RedisProcess() : port_(find_free_port()) {}

RedisProcess::~RedisProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool RedisProcess::start(std::chrono::milliseconds timeout) {
    if (pid_ > 0) return true;
    const std::string port = std::to_string(port_);
    const std::string dir = dir_.path().string();
    pid_ = ::fork();
    if (pid_ == 0) {
        // Quiet, loopback only, append-only persistence inside the test's own directory.
        ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
                 "--dir", dir.c_str(), "--save", "", "--appendonly", "yes", "--appendfsync",
                 "always", "--logfile", "redis.log", "--protected-mode", "no",
                 static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (pid_ < 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (command("PING").rfind("+PONG", 0) == 0) return true;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

void RedisProcess::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

std::string RedisProcess::command(const std::string& inline_command) const {
    return exchange(port_, inline_command + "\r\n");
}

}  // namespace haven::test
