// A real haven-server for a test: config file, start, readiness, logs, stop. Over 400 lines:
// process handling (fork, pipes, waits with deadlines) that every integration test leans on.
#include "support/server_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "support/ws_client.hpp"

#ifndef HAVEN_SERVER_BINARY
#error "HAVEN_SERVER_BINARY must name the haven-server executable"
#endif

namespace haven::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr auto kHealthPollInterval = std::chrono::milliseconds(10);
constexpr int kStartAttempts = 3;  // a "free" port can be taken before the server binds it

// ---- a deliberately small TOML merger ----------------------------------------------------
// Works line by line on the subset Haven's configuration uses: [table] and [[array]] headers,
// `key = value` lines (values may continue over several lines while brackets are open), and
// comments. Comments are dropped from the output.

struct Entry {
    std::string key;
    std::string text;  // the whole `key = value` text, possibly several lines
};

struct Section {
    std::string name;    // "" for the root table
    bool array = false;  // [[name]]
    std::vector<Entry> entries;
};

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r");
    return std::string(text.substr(first, last - first + 1));
}

// Net bracket depth of a value fragment, ignoring brackets inside strings and comments.
int bracket_depth(std::string_view text) {
    int depth = 0;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quote) {
            if (c == '\\' && quote == '"') {
                ++i;
            } else if (c == quote) {
                quote = 0;
            }
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '#') {
            break;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return depth;
}

std::vector<Section> parse_sections(const std::string& text) {
    std::vector<Section> sections(1);  // the root table
    std::istringstream in(text);
    std::string line;
    int open = 0;  // brackets still open in the current value
    while (std::getline(in, line)) {
        const std::string stripped = trim(line);
        if (open > 0) {
            sections.back().entries.back().text += "\n" + line;
            open += bracket_depth(stripped);
            continue;
        }
        if (stripped.empty() || stripped.front() == '#') continue;
        if (stripped.rfind("[[", 0) == 0) {
            const auto end = stripped.find("]]");
            sections.push_back({trim(stripped.substr(2, end - 2)), true, {}});
            continue;
        }
        if (stripped.front() == '[') {
            const auto end = stripped.find(']');
            sections.push_back({trim(stripped.substr(1, end - 1)), false, {}});
            continue;
        }
        const auto equals = stripped.find('=');
        if (equals == std::string::npos) {
            throw std::invalid_argument("merge_toml: cannot read line: " + line);
        }
        sections.back().entries.push_back({trim(stripped.substr(0, equals)), stripped});
        open = bracket_depth(stripped.substr(equals + 1));
    }
    return sections;
}

std::string render(const std::vector<Section>& sections) {
    std::string out;
    const auto emit = [&](const Section& section) {
        if (!section.name.empty()) {
            out += section.array ? "[[" + section.name + "]]\n" : "[" + section.name + "]\n";
        }
        for (const Entry& entry : section.entries) out += entry.text + "\n";
        out += "\n";
    };
    // Root keys first, then tables, then arrays of tables (which may follow in any order).
    for (const Section& s : sections) {
        if (s.name.empty()) emit(s);
    }
    for (const Section& s : sections) {
        if (!s.name.empty() && !s.array) emit(s);
    }
    for (const Section& s : sections) {
        if (s.array) emit(s);
    }
    return out;
}

const Section* find_table(const std::vector<Section>& sections, std::string_view name) {
    for (const Section& s : sections) {
        if (!s.array && s.name == name) return &s;
    }
    return nullptr;
}

bool has_key(const std::vector<Section>& sections, std::string_view table, std::string_view key) {
    const Section* section = find_table(sections, table);
    if (section == nullptr) return false;
    return std::any_of(section->entries.begin(), section->entries.end(),
                       [&](const Entry& e) { return e.key == key; });
}

std::string toml_string(const std::string& value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string default_rooms() {
    return R"([[rooms]]
id = "lobby"
title = "Drop-in lounge"
topic = "Come as you are."
kind = "drop_in"
capacity = 200

[[rooms]]
id = "anxiety-support"
title = "Anxiety support"
topic = "Worry, panic and stress."
kind = "group"
capacity = 100

[[rooms]]
id = "grief-and-loss"
title = "Grief and loss"
kind = "group"
capacity = 100

[[rooms]]
id = "evening-circle"
title = "Evening circle"
kind = "meeting"
capacity = 12
)";
}

std::string read_text_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_text_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

fs::path make_temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "haven-it-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    return pattern;
}

bool keep_temp_dirs() {
    const char* keep = std::getenv("HAVEN_KEEP_TEST_DIRS");
    return keep != nullptr && *keep != '\0' && std::string_view(keep) != "0";
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// fork + exec of haven-server with stdout and stderr redirected to the given files.
pid_t spawn_server(const fs::path& config, const fs::path& out_file, const fs::path& err_file) {
    const std::string binary = server_binary();
    const std::string config_arg = config.string();
    const std::string out_path = out_file.string();
    const std::string err_path = err_file.string();
    std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("--config"),
                               const_cast<char*>(config_arg.c_str()), nullptr};
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        // Only async-signal-safe calls from here on.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test run
        if (::getppid() != parent) ::_exit(126);
        const int null_fd = ::open("/dev/null", O_RDONLY);
        const int flags = O_WRONLY | O_CREAT | O_APPEND;
        const int out_fd = ::open(out_path.c_str(), flags, 0644);
        const int err_fd = out_path == err_path ? out_fd : ::open(err_path.c_str(), flags, 0644);
        if (null_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(125);
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(out_fd, STDOUT_FILENO);
        ::dup2(err_fd, STDERR_FILENO);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
    return pid;
}

}  // namespace

bool sanitized_server() {
    const char* flag = std::getenv("HAVEN_SERVER_SANITIZED");
    return flag != nullptr && *flag != '\0';
}

const char* server_binary() {
    // The environment may point the tests at another build of the server.
    const char* override_path = std::getenv("HAVEN_SERVER_BINARY");
    if (override_path != nullptr && *override_path != '\0') return override_path;
    return HAVEN_SERVER_BINARY;
}

std::string merge_toml(const std::string& base, const std::string& overrides) {
    std::vector<Section> merged = parse_sections(base);
    const std::vector<Section> extra = parse_sections(overrides);
    std::vector<std::string> replaced_arrays;
    for (const Section& section : extra) {
        if (section.array) {
            if (std::find(replaced_arrays.begin(), replaced_arrays.end(), section.name) ==
                replaced_arrays.end()) {
                replaced_arrays.push_back(section.name);
                std::erase_if(merged,
                              [&](const Section& s) { return s.array && s.name == section.name; });
            }
            merged.push_back(section);
            continue;
        }
        auto target = std::find_if(merged.begin(), merged.end(), [&](const Section& s) {
            return !s.array && s.name == section.name;
        });
        if (target == merged.end()) {
            merged.push_back(section);
            continue;
        }
        for (const Entry& entry : section.entries) {
            auto existing = std::find_if(target->entries.begin(), target->entries.end(),
                                         [&](const Entry& e) { return e.key == entry.key; });
            if (existing != target->entries.end()) {
                *existing = entry;
            } else {
                target->entries.push_back(entry);
            }
        }
    }
    return render(merged);
}

namespace {

bool listens_here(const std::string& log, std::uint16_t port) {
    return log.find("haven listening on") != std::string::npos &&
           log.find(":" + std::to_string(port) + " (") != std::string::npos;
}

}  // namespace

std::uint16_t find_free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = 0;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        const int error = errno;
        ::close(fd);
        throw std::system_error(error, std::generic_category(), "bind port 0");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

// ---- TempDir -------------------------------------------------------------------------------

TempDir::TempDir() : path_(make_temp_dir()) {}

TempDir::~TempDir() {
    if (keep_temp_dirs()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

// ---- ServerProcess -------------------------------------------------------------------------

ServerProcess::ServerProcess(ServerOptions options)
    : options_(std::move(options)), dir_(make_temp_dir()) {}

ServerProcess::~ServerProcess() {
    kill_now();
    if (keep_temp_dirs()) return;
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

// Every test client connects from 127.0.0.1, so the per-address limits would count a whole
// suite as one abusive person; tests of those limits set their own. Flags from guests who
// just joined count here too, so that flag tests need not wait ten minutes.
constexpr const char* kLoopbackLimits =
    "[limits]\nconnections_per_address = 1000000\nupgrades_per_address = 1000000\n"
    "new_guests_per_address_per_hour = 1000000\n\n[moderation]\nflag_trust_minutes = 0\n\n";

bool ServerProcess::start() {
    if (pid_ > 0) {
        error_ = "already started";
        return false;
    }
    const fs::path static_dir = dir_ / "static";
    fs::create_directories(static_dir);

    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
        port_ = find_free_port();
        std::string base = "[server]\nshards = " + std::to_string(options_.shards) +
                           "\nstatic_dir = " + toml_string(static_dir.string()) +
                           "\n\n[auth]\nguest_enabled = " + (options_.guests ? "true" : "false") +
                           "\n\n[log]\nlevel = " + toml_string(options_.log_level) + "\n\n" +
                           kLoopbackLimits + default_rooms();
        std::string text = merge_toml(base, options_.toml);
        text = merge_toml(
            text, "[server]\naddress = \"127.0.0.1\"\nport = " + std::to_string(port_) + "\n");
        config_text_ = text;
        tls_ = has_key(parse_sections(text), "tls", "cert");
        write_text_file(config_path(), config_text_);

        exit_status_.reset();
        pid_ = spawn_server(config_path(), log_path(), log_path());
        const auto deadline = Clock::now() + options_.ready_timeout;
        bool exited = false;
        while (Clock::now() < deadline) {
            if (!running()) {
                exited = true;
                break;
            }
            const HttpResult health =
                http_get(port_, "/healthz", tls_, std::chrono::milliseconds(500));
            // Another test's server may hold this port if ours lost the race for it: only a
            // server whose own log says it listens here is ours.
            if (health.status == 200 && listens_here(log(), port_)) return true;
            std::this_thread::sleep_for(kHealthPollInterval);
        }
        if (!exited) {
            kill_now();
            error_ = "haven-server did not answer /healthz within " +
                     std::to_string(options_.ready_timeout.count()) + " ms; log:\n" + log();
            return false;
        }
        const std::string output = log();
        pid_ = -1;
        if (output.find("cannot listen") != std::string::npos && attempt + 1 < kStartAttempts) {
            continue;  // the port was taken in the meantime; try another
        }
        error_ = "haven-server exited with status " + std::to_string(exit_status_.value_or(-1)) +
                 " before it was healthy; log:\n" + output;
        return false;
    }
    return false;
}

std::string ServerProcess::log() const {
    return read_text_file(log_path());
}

bool ServerProcess::running() {
    if (pid_ <= 0 || exit_status_) return false;
    int status = 0;
    const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_) {
        exit_status_ = decode_status(status);
        return false;
    }
    return reaped == 0;
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (running()) {
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(kPollInterval);
    }
    return exit_status_;
}

bool ServerProcess::signal(int signal_number) {
    return running() && ::kill(pid_, signal_number) == 0;
}

std::optional<int> ServerProcess::stop(int signal_number, std::chrono::milliseconds timeout) {
    if (!running()) return exit_status_;
    ::kill(pid_, signal_number);
    auto status = wait_exit(timeout);
    if (!status) {
        kill_now();
        return std::nullopt;
    }
    return status;
}

void ServerProcess::kill_now() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) exit_status_ = decode_status(status);
}

// ---- run_server_with_config ----------------------------------------------------------------

RunResult run_server_with_config(const std::string& config_text,
                                 std::chrono::milliseconds timeout) {
    TempDir dir;
    const fs::path config = dir.path() / "haven.toml";
    write_text_file(config, config_text);
    const pid_t pid = spawn_server(config, dir.path() / "out.txt", dir.path() / "err.txt");

    RunResult result;
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    for (;;) {
        const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
        if (reaped == pid) {
            result.exit_status = decode_status(status);
            break;
        }
        if (Clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    result.out = read_text_file(dir.path() / "out.txt");
    result.err = read_text_file(dir.path() / "err.txt");
    return result;
}

}  // namespace haven::test
