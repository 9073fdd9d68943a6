#include "moderation/audit_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

namespace haven::moderation {
namespace {

constexpr mode_t kOwnerOnly = S_IRUSR | S_IWUSR;  // 0600

std::uint64_t id_number(const std::string& id) {
    try {
        return id.empty() ? 0 : std::stoull(id);
    } catch (const std::exception&) {
        return 0;
    }
}

// The log names people (handles, subjects) and what was done to them: readable by the server's
// own user only. Created so; an existing file that others could read is narrowed to that too.
std::FILE* open_owner_only(const std::string& path) {
    const auto cannot = [&path](const char* what) {
        return std::runtime_error("moderation.audit_file: cannot " + std::string(what) + " " +
                                  path + ": " + std::strerror(errno));
    };
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kOwnerOnly);
    if (fd < 0) throw cannot("open");
    const auto fail = [&](const char* what) {
        const std::runtime_error error = cannot(what);  // before close() changes errno
        ::close(fd);
        throw error;
    };
    struct stat status {};
    if (::fstat(fd, &status) != 0) fail("inspect");
    const mode_t others = status.st_mode & (S_IRWXG | S_IRWXO);
    if (others != 0) {
        if (::fchmod(fd, kOwnerOnly) != 0) fail("restrict the permissions of");
        spdlog::warn("audit log {}: was open to others (mode {:o}), now {:o}", path,
                     status.st_mode & 0777, kOwnerOnly);
    }
    std::FILE* file = ::fdopen(fd, "a");
    if (file == nullptr) fail("open");
    return file;
}

}  // namespace

AuditFile::AuditFile(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    const std::filesystem::path file_path(path_);
    if (file_path.has_parent_path()) {
        std::error_code ignored;
        std::filesystem::create_directories(file_path.parent_path(), ignored);
    }
    std::ifstream existing(path_);
    std::string line;
    std::size_t skipped = 0;
    while (std::getline(existing, line)) {
        v1::AuditEntry entry;
        if (line.empty() || !google::protobuf::util::JsonStringToMessage(line, &entry).ok()) {
            ++skipped;  // a torn last line after a crash, most likely
            continue;
        }
        entries_.push_back(std::move(entry));
    }
    if (skipped > 0) spdlog::warn("audit log {}: skipped {} unreadable lines", path_, skipped);
    file_ = open_owner_only(path_);
}

AuditFile::~AuditFile() {
    if (file_ != nullptr) std::fclose(file_);
}

void AuditFile::append(v1::AuditEntry entry) {
    const std::uint64_t last = entries_.empty() ? 0 : id_number(entries_.back().id());
    entry.set_id(std::to_string(last + 1));
    if (file_ != nullptr) {
        std::string line;
        (void)google::protobuf::util::MessageToJsonString(entry, &line);
        line.push_back('\n');
        std::fwrite(line.data(), 1, line.size(), file_);
        std::fflush(file_);
    }
    entries_.push_back(std::move(entry));
}

v1::AuditPage AuditFile::page(const std::string& room_id, const std::string& before_id,
                              std::uint32_t limit) const {
    v1::AuditPage page;
    const std::uint64_t before = before_id.empty() ? UINT64_MAX : id_number(before_id);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (id_number(it->id()) >= before) continue;
        if (!room_id.empty() && it->room_id() != room_id) continue;
        if (page.entries_size() == static_cast<int>(limit)) {
            page.set_has_more(true);
            break;
        }
        *page.add_entries() = *it;
    }
    return page;
}

}  // namespace haven::moderation
