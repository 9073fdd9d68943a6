// Fuzzes static file resolution end to end: any request target is mapped by safe_static_path
// and read by StaticFiles from a real folder made for the run, whose links lead out of it in
// each way a link can (to the parent, to a file beside it, to a sibling folder whose name
// starts like its own). Asserted for every target: a mapped path is absolute, has no dot
// segment, NUL or backslash, stays inside the folder when read as plain segments, and what is
// served is one of the folder's own files, never one outside it.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "http/static_files.hpp"

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const char* what, std::string_view target) {
    std::fprintf(stderr, "static_path_fuzz: %s for target \"%.*s\"\n", what,
                 static_cast<int>(target.size()), target.data());
    std::abort();
}

struct Site {
    fs::path base;                     // removed at exit
    std::set<std::string> own_bodies;  // the contents of the files inside the served folder
    haven::http::StaticFiles files;
};

void write(const fs::path& path, const std::string& body) {
    std::ofstream(path) << body;
}

Site make_site() {
    // In $TMPDIR, which scripts/fuzz.sh points at a scratch folder it removes: a time-limited
    // libFuzzer run ends without running atexit handlers.
    std::string name = (fs::temp_directory_path() / "haven-static-fuzz-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) std::abort();
    Site site;
    site.base = name;
    const fs::path dist = site.base / "dist";
    fs::create_directories(dist / "assets");
    fs::create_directories(dist / "sub");
    fs::create_directories(site.base / "dist-other");
    const std::pair<const char*, const char*> inside[] = {
        {"index.html", "inside: index"},
        {"assets/app.js", "inside: app"},
        {"sub/index.html", "inside: sub index"},
        {"sub/a b.txt", "inside: spaced"},
    };
    for (const auto& [path, body] : inside) {
        write(dist / path, body);
        site.own_bodies.insert(body);
    }
    write(site.base / "secret.txt", "outside: secret");
    write(site.base / "dist-other" / "x.txt", "outside: sibling");
    fs::create_directory_symlink("..", dist / "up");
    fs::create_symlink("../secret.txt", dist / "secret.txt");
    fs::create_directory_symlink("../dist-other", dist / "other");
    fs::create_directory_symlink("/", dist / "root");
    fs::create_directory_symlink("sub", dist / "inner");  // stays inside: served
    haven::config::ServerConfig server;
    server.static_dir = dist.string();
    server.static_max_file_bytes = 1024;
    site.files = haven::http::StaticFiles(server);
    if (!site.files.available()) std::abort();
    return site;
}

Site& site() {
    static Site instance = [] {
        Site made = make_site();
        std::atexit([] { fs::remove_all(site().base); });
        return made;
    }();
    return instance;
}

// The checks on a path safe_static_path returned.
void check_path(const std::string& path, std::string_view target) {
    if (path.empty() || path.front() != '/') fail("a relative path", target);
    if (path.back() == '/') fail("a folder path", target);
    if (path.find('\0') != std::string::npos) fail("a NUL in the path", target);
    if (path.find('\\') != std::string::npos) fail("a backslash in the path", target);
    // Read as plain segments, the path never climbs above where it started.
    std::size_t start = 1;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view segment(path.data() + start, end - start);
        if (segment == "." || segment == "..") fail("a dot segment", target);
        start = end + 1;
    }
    // Without escapes or a query, the path is the target itself.
    if (target.find_first_of("%?#") == std::string_view::npos && path != target &&
        path != std::string(target) + "index.html") {
        fail("a path that is not the target", target);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view target(reinterpret_cast<const char*>(data), size);
    const auto path = haven::http::safe_static_path(target);
    if (!path) return 0;
    check_path(*path, target);
    const auto result = site().files.read(*path);
    if (result.outcome == haven::http::StaticFiles::Outcome::found &&
        site().own_bodies.count(result.body) == 0) {
        fail("a file outside the folder served", target);
    }
    return 0;
}
