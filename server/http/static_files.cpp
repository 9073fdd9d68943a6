#include "http/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace haven::http {
namespace {

struct FreeDeleter {
    void operator()(char* p) const { std::free(p); }
};

// realpath(3): every symbolic link and dot segment resolved; nothing when the path does not
// lead anywhere. errno tells why.
std::optional<std::string> real_path(const std::string& path) {
    std::unique_ptr<char, FreeDeleter> resolved(::realpath(path.c_str(), nullptr));
    if (!resolved) return std::nullopt;
    return std::string(resolved.get());
}

class Descriptor {
public:
    explicit Descriptor(int fd) : fd_(fd) {}
    ~Descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

[[noreturn]] void refuse(const std::string& dir, const std::string& why) {
    throw std::runtime_error("server.static_dir: " + dir + ": " + why);
}

}  // namespace

std::optional<std::string> safe_static_path(std::string_view target) {
    const std::string_view path = target.substr(0, target.find_first_of("?#"));
    if (path.empty() || path.front() != '/') return std::nullopt;
    std::string decoded;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '%') {
            if (i + 2 >= path.size()) return std::nullopt;
            const int high = hex_value(path[i + 1]);
            const int low = hex_value(path[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            decoded.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else {
            decoded.push_back(path[i]);
        }
    }
    if (decoded.find('\0') != std::string::npos || decoded.find('\\') != std::string::npos) {
        return std::nullopt;
    }
    // Refuse any "." or ".." segment instead of normalising: no legitimate asset needs one.
    std::size_t start = 1;
    while (start <= decoded.size()) {
        const std::size_t end = std::min(decoded.find('/', start), decoded.size());
        const std::string_view segment(decoded.data() + start, end - start);
        if (segment == "." || segment == "..") return std::nullopt;
        start = end + 1;
    }
    if (decoded.back() == '/') decoded += "index.html";
    return decoded;
}

StaticFiles::StaticFiles(const config::ServerConfig& server)
    : follow_symlinks_(server.static_follow_symlinks),
      max_file_bytes_(server.static_max_file_bytes) {
    const std::string& dir = server.static_dir;
    if (dir.empty()) return;
    configured_ = true;
    std::optional<std::string> root = real_path(dir);
    if (!root) {
        const int error = errno;
        // The web client is built separately (scripts/build-web.sh): a server started before
        // the build answers with the built-in page instead of refusing to run.
        if (error == ENOENT) {
            warning_ = "server.static_dir: " + dir +
                       " does not exist; serving the built-in page until it is built and the "
                       "server restarted";
            return;
        }
        refuse(dir, std::strerror(error));
    }
    // "/" would hand the whole file system to anyone, which is exactly what the folder is for
    // preventing.
    if (*root == "/") refuse(dir, "must not be the root of the file system");
    const Descriptor folder(::open(root->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (folder.get() < 0)
        refuse(dir, std::string("is not a readable folder: ") + std::strerror(errno));
    if (::faccessat(AT_FDCWD, root->c_str(), R_OK | X_OK, AT_EACCESS) != 0) {
        refuse(dir, std::string("is not a readable folder: ") + std::strerror(errno));
    }
    root_ = std::move(*root);
}

StaticFiles::Result StaticFiles::read(const std::string& path) const {
    if (root_.empty() || path.empty() || path.front() != '/') return {};
    const std::optional<std::string> resolved = real_path(root_ + path);
    if (!resolved) return {};
    // With dot segments refused by safe_static_path, only a symbolic link can lead out.
    const bool inside = resolved->size() > root_.size() &&
                        resolved->compare(0, root_.size(), root_) == 0 &&
                        (*resolved)[root_.size()] == '/';
    if (!inside && !follow_symlinks_) return {};

    // The resolved path has no links left: O_NOFOLLOW refuses one swapped in since. O_NONBLOCK
    // keeps a FIFO from stalling the shard in open(); what was opened is then checked on the
    // descriptor itself, so nothing can change between the check and the read.
    const Descriptor file(
        ::open(resolved->c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (file.get() < 0) return {};
    struct stat info {};
    if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) return {};
    const auto size = static_cast<std::uint64_t>(info.st_size);
    if (size > max_file_bytes_) return {Outcome::too_large, {}};

    Result result{Outcome::found, std::string(size, '\0')};
    std::size_t filled = 0;
    while (filled < size) {
        const ssize_t got = ::read(file.get(), result.body.data() + filled, size - filled);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return {};
        if (got == 0) break;  // shrank while being read: serve what is there
        filled += static_cast<std::size_t>(got);
    }
    result.body.resize(filled);
    return result;
}

}  // namespace haven::http
