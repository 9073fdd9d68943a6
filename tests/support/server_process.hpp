// Runs the real haven-server binary for integration tests: writes a configuration into a
// fresh temporary directory, starts the process on a free loopback port, waits until it
// answers /healthz, and stops it with a signal. Output (stdout and stderr) goes to a log file
// in the temporary directory so tests can read it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace haven::test {

struct ServerOptions {
    // TOML merged over the fixture's defaults, table by table and key by key: a [limits]
    // table here sets only the limits it names. [[rooms]] entries, when present, replace the
    // default rooms. The fixture always sets server.address and server.port itself.
    std::string toml;
    // Defaults the overrides can replace.
    unsigned shards = 2;
    bool guests = true;
    std::string log_level = "info";
    std::chrono::milliseconds ready_timeout{10'000};
};

// The rooms every fixture server has unless the overrides list their own.
inline constexpr const char* kDefaultRooms[] = {"lobby", "anxiety-support", "grief-and-loss",
                                                "evening-circle"};

class ServerProcess {
public:
    explicit ServerProcess(ServerOptions options = {});
    ~ServerProcess();  // SIGKILL if still running, then removes the temporary directory
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Starts the process and waits for /healthz. False (with error() saying why) when the
    // process exited or did not become healthy in time.
    bool start();

    std::uint16_t port() const { return port_; }
    bool tls() const { return tls_; }
    pid_t pid() const { return pid_; }
    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path config_path() const { return dir_ / "haven.toml"; }
    std::filesystem::path log_path() const { return dir_ / "server.log"; }
    const std::string& config_text() const { return config_text_; }
    const std::string& error() const { return error_; }

    // Everything the server has written so far.
    std::string log() const;
    bool running();

    // Sends `signal_number` and waits for the exit. Returns the exit status (0..255), or
    // 128 + signal when the process died of a signal, or nothing when it did not exit in time
    // (it is then killed).
    std::optional<int> stop(int signal_number = SIGTERM,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

    // Sends a signal without waiting (e.g. to observe a graceful shutdown from a client).
    bool signal(int signal_number);

    // Waits for the process to exit on its own.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

private:
    void kill_now();

    ServerOptions options_;
    std::filesystem::path dir_;
    std::string config_text_;
    std::string error_;
    std::uint16_t port_ = 0;
    bool tls_ = false;
    pid_t pid_ = -1;
    std::optional<int> exit_status_;
};

// A fresh temporary directory, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Runs haven-server once with exactly this configuration text (no defaults filled in) and
// waits for it to exit, capturing stdout and stderr separately. For start-up failures.
struct RunResult {
    std::optional<int> exit_status;  // nothing: still running at the deadline (then killed)
    std::string out;
    std::string err;
};
RunResult run_server_with_config(const std::string& config_text, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t find_free_port();

// Merges TOML overrides into a base document, table by table and key by key (see
// ServerOptions::toml). Exposed for the fixture's own tests.
std::string merge_toml(const std::string& base, const std::string& overrides);

// Path of the haven-server binary under test: $HAVEN_SERVER_BINARY when set, else the one this
// build produced.
const char* server_binary();
// True when the server under test is a sanitized build (HAVEN_SERVER_SANITIZED set, as
// scripts/test-sanitizers.sh does): it keeps freed memory in quarantine, so bounds on its
// resident memory say nothing and are not checked.
bool sanitized_server();

}  // namespace haven::test
