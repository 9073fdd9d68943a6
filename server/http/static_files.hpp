// The web client's files on disk, served to anyone who asks: the folder is resolved once at
// start, and a request may only ever reach a regular file inside it. Everything else (paths
// that leave the folder, symbolic links pointing out of it, devices, FIFOs, folders, files
// over the size limit) is answered as "not found", so an anonymous client learns nothing
// about the rest of the file system.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace haven::http {

// The path part of a request target, percent-decoded; nothing when it is unsafe to map onto
// the file system (dot segments, backslashes, NUL, not absolute). A path ending in '/' names
// its index.html.
std::optional<std::string> safe_static_path(std::string_view target);

class StaticFiles {
public:
    // Nothing configured: every static path is "not found".
    StaticFiles() = default;

    // Resolves server.static_dir (empty = no static files). A folder that does not exist yet
    // (the web client is built separately) is allowed and reported by warning(); anything
    // else that cannot serve files throws std::runtime_error naming server.static_dir.
    explicit StaticFiles(const config::ServerConfig& server);

    // server.static_dir is set (the folder may still be missing).
    bool configured() const { return configured_; }
    // A folder is configured and was present at start.
    bool available() const { return !root_.empty(); }
    // The resolved folder (realpath), empty when not available.
    const std::string& root() const { return root_; }
    // Why a configured folder is not served, for the start-up log.
    const std::optional<std::string>& warning() const { return warning_; }

    enum class Outcome { found, not_found, too_large };
    struct Result {
        Outcome outcome = Outcome::not_found;
        std::string body;
    };

    // `path` as returned by safe_static_path: absolute within the folder, no dot segments.
    Result read(const std::string& path) const;

private:
    bool configured_ = false;
    std::string root_;
    bool follow_symlinks_ = false;
    std::uint64_t max_file_bytes_ = 0;
    std::optional<std::string> warning_;
};

}  // namespace haven::http
