// The embedded audit log: every moderator action and automatic decision, appended as one JSON
// line per entry to a file that survives restarts, and paged newest first. Owned by shard 0.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "haven.pb.h"

namespace haven::moderation {

class AuditFile {
public:
    // Reads the entries already in `path` (creating its folder when missing) and opens it for
    // appending, readable and writable by its owner only (mode 0600, also when it existed with
    // wider permissions). An empty path keeps the log in memory only. Throws
    // std::runtime_error when the file cannot be opened.
    explicit AuditFile(std::string path);
    ~AuditFile();
    AuditFile(const AuditFile&) = delete;
    AuditFile& operator=(const AuditFile&) = delete;

    // Assigns the entry's id (increasing) and appends it; the line is flushed at once.
    void append(v1::AuditEntry entry);
    v1::AuditPage page(const std::string& room_id, const std::string& before_id,
                       std::uint32_t limit) const;
    std::size_t size() const { return entries_.size(); }

private:
    std::string path_;
    std::FILE* file_ = nullptr;
    std::vector<v1::AuditEntry> entries_;  // oldest first; ids are 1, 2, 3 ...
};

}  // namespace haven::moderation
