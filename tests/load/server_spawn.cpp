#include "server_spawn.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace haven::load {
namespace {

namespace fs = std::filesystem;

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::system_error(errno, std::generic_category(), "finding a free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

bool accepts_connections(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string load_test_config(const SpawnSettings& s, std::uint16_t port) {
    std::string text =
        "# Written by haven-load --spawn-server: a load-test configuration.\n"
        "[server]\n"
        "address = \"127.0.0.1\"\n"
        "port = " +
        std::to_string(port) +
        "\n"
        "shards = " +
        std::to_string(s.shards) +
        "\n"
        "static_dir = \"\"\n"
        "\n"
        "[limits]\n"
        "# The generator posts far faster than a person; these keep the server from refusing it.\n"
        "posts_per_second = 1000.0\n"
        "post_burst = 10000\n"
        "outbound_queue_bytes = 16777216\n"
        "outbound_queue_messages = 100000\n"
        "idle_timeout_ms = 600000\n"
        "handshake_timeout_ms = 60000\n"
        "hello_timeout_ms = 60000\n"
        "# Every generated client comes from 127.0.0.1: one address, thousands of people.\n"
        "connections_per_address = 1000000\n"
        "upgrades_per_address = 1000000\n"
        "new_guests_per_address_per_hour = 1000000\n"
        "\n"
        "[history]\n"
        "join_events = 0\n"
        "\n"
        "[auth]\n"
        "guest_enabled = true\n"
        "\n"
        "[log]\n"
        "level = \"warn\"\n";
    for (unsigned i = 0; i < s.rooms; ++i) {
        text += "\n[[rooms]]\nid = \"" + s.room_prefix + std::to_string(i) + "\"\ntitle = \"Load " +
                std::to_string(i) + "\"\ncapacity = " + std::to_string(s.room_capacity) + "\n";
    }
    return text;
}

SpawnedServer::SpawnedServer(const SpawnSettings& settings) {
    std::string pattern = (fs::temp_directory_path() / "haven-load-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    dir_ = pattern;
    port_ = free_port();
    const fs::path config = fs::path(dir_) / "haven.toml";
    const fs::path log = fs::path(dir_) / "server.log";
    std::ofstream(config) << load_test_config(settings, port_);

    const std::string config_arg = config.string();
    const std::string log_path = log.string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed generator
        if (::getppid() != parent) ::_exit(126);
        const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        const int null_fd = ::open("/dev/null", O_RDONLY);
        if (out < 0 || null_fd < 0) ::_exit(125);
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
        ::execl(settings.binary.c_str(), settings.binary.c_str(), "--config", config_arg.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("haven-server exited during start-up; log:\n" +
                                     read_file(log));
        }
        if (accepts_connections(port_)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw std::runtime_error("haven-server did not accept connections within 15 s; log:\n" +
                             read_file(log));
}

SpawnedServer::~SpawnedServer() {
    if (pid_ > 0) {
        ::kill(pid_, SIGINT);
        int status = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    std::error_code ignored;
    if (!dir_.empty() && std::getenv("HAVEN_KEEP_TEST_DIRS") == nullptr)
        fs::remove_all(dir_, ignored);
}

}  // namespace haven::load
