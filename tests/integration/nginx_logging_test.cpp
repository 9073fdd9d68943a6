// The shipped config/nginx.conf in front of a real haven-server: nginx is made to log errors
// (instances refusing connections, then a 502) and its logs must hold no client address.
// Skipped when nginx is not installed (scripts/setup.sh installs it for the tests).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> find_nginx() {
    std::vector<fs::path> folders = {"/usr/sbin", "/usr/local/sbin"};
    if (const char* path = std::getenv("PATH")) {
        std::string_view rest = path;
        while (!rest.empty()) {
            const auto colon = rest.find(':');
            folders.emplace_back(std::string(rest.substr(0, colon)));
            rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        }
    }
    for (const fs::path& folder : folders) {
        const fs::path candidate = folder / "nginx";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

// nginx in the foreground with its prefix (where the config's relative paths land) in `dir`.
class Nginx {
public:
    Nginx(const fs::path& binary, const fs::path& dir) {
        const std::string prefix = dir.string() + "/";
        const std::string config = (dir / "nginx.conf").string();
        const std::string startup_log = (dir / "startup.log").string();
        const std::string output = (dir / "output.log").string();
        std::vector<std::string> args = {binary.string(), "-p", prefix,       "-c", config, "-e",
                                         startup_log,     "-g", "daemon off;"};
        std::vector<char*> argv;
        for (std::string& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (out < 0) ::_exit(125);
            ::dup2(out, STDOUT_FILENO);
            ::dup2(out, STDERR_FILENO);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~Nginx() { stop(); }
    Nginx(const Nginx&) = delete;
    Nginx& operator=(const Nginx&) = delete;

    // Graceful stop (SIGQUIT), so every log line is written before the logs are read.
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGQUIT);
        for (int i = 0; i < 500; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

// Runs nginx with `config_text` (the shipped file with its ports replaced) in front of one
// live instance and two that refuse connections, then with every instance gone, and returns
// everything nginx wrote to its logs.
std::string logs_after_errors(const fs::path& nginx, std::string config_text) {
    ServerProcess haven({.toml = "[server]\nshards = 1\n"});
    require_started(haven);
    const std::uint16_t front = find_free_port();
    replace_all(config_text, "127.0.0.1:8080", "127.0.0.1:" + std::to_string(front));
    replace_all(config_text, "127.0.0.1:8081", "127.0.0.1:" + std::to_string(find_free_port()));
    replace_all(config_text, "127.0.0.1:8082", "127.0.0.1:" + std::to_string(find_free_port()));
    replace_all(config_text, "127.0.0.1:8083", "127.0.0.1:" + std::to_string(haven.port()));

    TempDir dir;
    std::ofstream(dir.path() / "nginx.conf") << config_text;
    {
        Nginx proxy(nginx, dir.path());
        // Each request may first try an instance that refuses: an error line each time.
        REQUIRE(eventually([&] { return http_get(front, "/healthz", false, 1s).status == 200; },
                           10s, 50ms));
        for (int i = 0; i < 6; ++i) CHECK(http_get(front, "/healthz").status == 200);
        REQUIRE(haven.stop(SIGINT) == std::optional<int>(0));
        CHECK(http_get(front, "/healthz").status == 502);
        proxy.stop();
    }
    std::string logs;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        if (entry.path().extension() == ".log") logs += read_file(entry.path());
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
        if (entry.is_regular_file() && entry.path().filename() == "access.log") {
            logs += read_file(entry.path());
        }
    }
    return logs;
}

TEST_CASE("nginx: the shipped config keeps no client address in its logs") {
    const std::optional<fs::path> nginx = find_nginx();
    if (!nginx) {
        MESSAGE("nginx is not installed: skipped");
        return;
    }
    const std::string shipped = read_file(fs::path(HAVEN_SOURCE_DIR) / "config" / "nginx.conf");

    // The same requests with the error log at warn do log client addresses, so the scenario
    // is one that would reveal them.
    std::string at_warn;
    bool has_error_log = false;
    std::istringstream lines(shipped);
    for (std::string line; std::getline(lines, line);) {
        const bool error_log = line.rfind("error_log ", 0) == 0;
        has_error_log = has_error_log || error_log;
        at_warn += error_log ? "error_log error.log warn;" : line;
        at_warn += '\n';
    }
    REQUIRE(has_error_log);
    const std::string warn_logs = logs_after_errors(*nginx, at_warn);
    CHECK(warn_logs.find("client: 127.0.0.1") != std::string::npos);

    const std::string logs = logs_after_errors(*nginx, shipped);
    CAPTURE(logs);
    CHECK(logs.find("client:") == std::string::npos);
    CHECK(logs.find("127.0.0.1") == std::string::npos);
}

}  // namespace
}  // namespace haven::test
