// The embedded audit log on disk, from the real server: what a crisis match leaves in it, and
// who may read the file.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "integration/helpers.hpp"

#ifndef HAVEN_SOURCE_DIR
#error "HAVEN_SOURCE_DIR must name the source tree (for config/crisis)"
#endif

namespace haven::test {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned permissions(const fs::path& path) {
    struct stat status {};
    REQUIRE(::stat(path.c_str(), &status) == 0);
    return status.st_mode & 0777;
}

std::string audit_toml(const fs::path& audit_file, bool crisis = false) {
    std::string toml = "[moderation]\naudit_file = \"" + audit_file.string() + "\"\n";
    if (crisis) toml += "crisis_dir = \"" + std::string(HAVEN_SOURCE_DIR) + "/config/crisis\"\n";
    return toml;
}

TEST_CASE("audit log: a crisis match is recorded by its concept and rule, never its words") {
    TempDir dir;
    const fs::path audit_file = dir.path() / "audit.jsonl";
    ServerProcess server({.toml = audit_toml(audit_file, true)});
    require_started(server);
    Client author = guest_in(server, Encoding::binary, "lobby");
    // "kill myself" is the 4th phrase of the English list's "suicide" concept.
    author.post("lobby", "some nights I think I will kill myself");
    // The alert reaches the author with the Ack; the entry is appended on shard 0 meanwhile.
    REQUIRE(eventually(
        [&] { return read_file(audit_file).find("crisis_detected") != std::string::npos; }));
    const std::string log = read_file(audit_file);
    INFO(log);
    CHECK(log.find("suicide, urgent (rule en/suicide/4)") != std::string::npos);
    for (const char* word : {"kill", "myself", "nights", "matched"}) {
        CAPTURE(word);
        CHECK(log.find(word) == std::string::npos);
    }
}

TEST_CASE("audit log: the file is created readable by its owner only") {
    TempDir dir;
    const fs::path audit_file = dir.path() / "data" / "audit.jsonl";
    ServerProcess server({.toml = audit_toml(audit_file)});
    require_started(server);
    REQUIRE(fs::exists(audit_file));
    CHECK(permissions(audit_file) == 0600);
}

TEST_CASE("audit log: an existing file open to others is narrowed to its owner, entries kept") {
    TempDir dir;
    const fs::path audit_file = dir.path() / "audit.jsonl";
    const std::string entry =
        R"({"id":"1","timeMs":"1","actor":"haven","action":"lock_room","roomId":"lobby"})";
    std::ofstream(audit_file) << entry << "\n";
    fs::permissions(audit_file, fs::perms::owner_read | fs::perms::owner_write |
                                    fs::perms::group_read | fs::perms::others_read);
    REQUIRE(permissions(audit_file) == 0644);
    ServerProcess server({.toml = audit_toml(audit_file)});
    require_started(server);
    CHECK(permissions(audit_file) == 0600);
    CHECK(read_file(audit_file).find(entry) == 0);
    CHECK(server.stop(SIGINT) == std::optional<int>(0));
    CHECK(server.log().find("now 600") != std::string::npos);
}

}  // namespace
}  // namespace haven::test
