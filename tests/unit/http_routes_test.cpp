#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "http/http_routes.hpp"
#include "http/security_headers.hpp"

using namespace haven;

namespace {

namespace fs = std::filesystem;

// A fresh folder holding `static/` (what the server serves) and `outside/` (what it must not).
class StaticFixture {
public:
    StaticFixture() {
        std::string pattern = (fs::temp_directory_path() / "haven-static-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        }
        base_ = pattern;
        fs::create_directories(static_dir());
        fs::create_directories(outside());
        write(static_dir() / "index.html", "<h1>client</h1>");
        write(outside() / "secret.txt", "secret");
        config_.server.static_dir = static_dir().string();
    }
    ~StaticFixture() {
        std::error_code ignored;
        fs::remove_all(base_, ignored);
    }
    StaticFixture(const StaticFixture&) = delete;
    StaticFixture& operator=(const StaticFixture&) = delete;

    fs::path static_dir() const { return base_ / "static"; }
    fs::path outside() const { return base_ / "outside"; }
    config::Config& config() { return config_; }

    static void write(const fs::path& path, const std::string& text) {
        std::ofstream(path, std::ios::binary) << text;
    }

    // What GET `target` answers with the configuration as it is now.
    http::HttpReply get(const std::string& target) {
        http::HttpRoutes routes(config_, directory_, metrics_, [] { return std::nullopt; });
        return routes.handle("GET", target);
    }

private:
    fs::path base_;
    config::Config config_;
    rooms::RoomDirectory directory_{{}, 1};
    core::Metrics metrics_{1};
};

}  // namespace

TEST_CASE("static paths are decoded and never escape the static directory") {
    CHECK(http::safe_static_path("/") == "/index.html");
    CHECK(http::safe_static_path("/assets/app.js?v=1") == "/assets/app.js");
    CHECK(http::safe_static_path("/a%20b.txt") == "/a b.txt");
    CHECK_FALSE(http::safe_static_path("/../etc/passwd"));
    CHECK_FALSE(http::safe_static_path("/%2e%2e/etc/passwd"));
    CHECK_FALSE(http::safe_static_path("/a/./b"));
    CHECK_FALSE(http::safe_static_path("/a\\b"));
    CHECK_FALSE(http::safe_static_path("/a%00b"));
    CHECK_FALSE(http::safe_static_path("/bad%zz"));
    CHECK_FALSE(http::safe_static_path("relative"));
}

TEST_CASE("routes answer health, readiness, metrics, rooms and static files") {
    const auto dir = std::filesystem::temp_directory_path() / "haven-routes-test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "index.html") << "<h1>client</h1>";
    config::Config config;
    config.server.static_dir = dir.string();
    config.rooms = {{"lobby", "Lobby", "Hello", config::RoomKind::drop_in, 10}};
    rooms::RoomDirectory directory(config.rooms, 1);
    directory.publish_member_count("lobby", 4);
    core::Metrics metrics(1);
    std::optional<std::string> unready;
    http::HttpRoutes routes(config, directory, metrics, [&] { return unready; });

    CHECK(routes.handle("GET", "/healthz").status == 200);
    CHECK(routes.handle("GET", "/readyz").status == 200);
    unready = "draining";
    const auto not_ready = routes.handle("GET", "/readyz");
    CHECK(not_ready.status == 503);
    CHECK(not_ready.body == "draining\n");
    CHECK(routes.handle("GET", "/metrics").body.find("haven_connections 0") != std::string::npos);
    const auto rooms = routes.handle("GET", "/api/rooms");
    CHECK(rooms.content_type == "application/json");
    CHECK(rooms.body.find(R"("memberCount":4)") != std::string::npos);
    const auto index = routes.handle("GET", "/");
    CHECK(index.status == 200);
    CHECK(index.body == "<h1>client</h1>");
    CHECK(index.content_type.rfind("text/html", 0) == 0);
    CHECK(routes.handle("GET", "/missing.js").status == 404);
    CHECK(routes.handle("GET", "/../secret").status == 400);
    CHECK(routes.handle("POST", "/healthz").status == 405);
    std::filesystem::remove_all(dir);
}

TEST_CASE("static files: an empty static_dir serves nothing from disk") {
    StaticFixture fixture;
    fixture.config().server.static_dir = "";
    CHECK(fixture.get("/etc/passwd").status == 404);
    CHECK(fixture.get("/proc/self/environ").status == 404);
    CHECK(fixture.get("/dev/zero").status == 404);
    CHECK(fixture.get("/").status == 404);
    CHECK(fixture.get("/index.html").status == 404);
    CHECK(fixture.get("/healthz").status == 200);
    CHECK(fixture.get("/api/rooms").status == 200);
}

TEST_CASE("static files: a folder that does not exist yet gives the built-in page only") {
    StaticFixture fixture;
    fixture.config().server.static_dir = (fixture.static_dir() / "not-built").string();
    const http::StaticFiles files(fixture.config().server);
    CHECK(files.configured());
    CHECK_FALSE(files.available());
    CHECK(files.warning().has_value());
    const auto index = fixture.get("/");
    CHECK(index.status == 200);
    CHECK(index.body.find("Haven is running") != std::string::npos);
    CHECK(fixture.get("/app.js").status == 404);
}

TEST_CASE("static files: dot segments never reach the file system") {
    StaticFixture fixture;
    CHECK(fixture.get("/../outside/secret.txt").status == 400);
    CHECK(fixture.get("/%2e%2e/outside/secret.txt").status == 400);
    CHECK(fixture.get("/%2E%2E%2Foutside%2Fsecret.txt").status == 400);
    CHECK(fixture.get("/./index.html").status == 400);
    CHECK(fixture.get("/index.html").status == 200);
}

TEST_CASE("static files: a symbolic link out of the folder is refused unless allowed") {
    StaticFixture fixture;
    fs::create_symlink(fixture.outside() / "secret.txt", fixture.static_dir() / "leak.txt");
    fs::create_directory_symlink(fixture.outside(), fixture.static_dir() / "leak-dir");
    fs::create_symlink("/etc/passwd", fixture.static_dir() / "passwd");
    fs::create_directories(fixture.static_dir() / "assets");
    StaticFixture::write(fixture.static_dir() / "assets" / "app.js", "app");
    fs::create_symlink("assets/app.js", fixture.static_dir() / "inside.js");

    CHECK(fixture.get("/leak.txt").status == 404);
    CHECK(fixture.get("/leak-dir/secret.txt").status == 404);
    CHECK(fixture.get("/passwd").status == 404);
    // A link that stays inside the folder is fine.
    const auto inside = fixture.get("/inside.js");
    CHECK(inside.status == 200);
    CHECK(inside.body == "app");

    fixture.config().server.static_follow_symlinks = true;
    const auto followed = fixture.get("/leak-dir/secret.txt");
    CHECK(followed.status == 200);
    CHECK(followed.body == "secret");
}

TEST_CASE("static files: only regular files are served, never devices, FIFOs or folders") {
    StaticFixture fixture;
    const fs::path fifo = fixture.static_dir() / "pipe.txt";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    fs::create_directories(fixture.static_dir() / "folder");
    // Even with links followed, a device is not a file to serve.
    fixture.config().server.static_follow_symlinks = true;
    fs::create_symlink("/dev/zero", fixture.static_dir() / "zero.bin");
    fs::create_symlink("/proc/self/environ", fixture.static_dir() / "environ.txt");

    CHECK(fixture.get("/pipe.txt").status == 404);  // and returns at once: no writer needed
    CHECK(fixture.get("/zero.bin").status == 404);
    CHECK(fixture.get("/folder").status == 404);
    // A /proc file is a regular file of size 0 whose contents appear only when read.
    CHECK(fixture.get("/environ.txt").body.empty());
}

TEST_CASE("static files: a file over static_max_file_bytes is not read") {
    StaticFixture fixture;
    fixture.config().server.static_max_file_bytes = 1024;
    StaticFixture::write(fixture.static_dir() / "big.bin", std::string(1025, 'x'));
    StaticFixture::write(fixture.static_dir() / "fits.bin", std::string(1024, 'y'));
    CHECK(fixture.get("/big.bin").status == 404);
    const http::StaticFiles files(fixture.config().server);
    CHECK(files.read("/big.bin").outcome == http::StaticFiles::Outcome::too_large);
    const auto fits = fixture.get("/fits.bin");
    CHECK(fits.status == 200);
    CHECK(fits.body.size() == 1024);
}

TEST_CASE("static files: a static_dir that cannot hold files stops the start") {
    StaticFixture fixture;
    config::ServerConfig server;
    server.static_dir = (fixture.static_dir() / "index.html").string();  // a file
    CHECK_THROWS_AS(http::StaticFiles{server}, std::runtime_error);
    server.static_dir = "/";
    CHECK_THROWS_AS(http::StaticFiles{server}, std::runtime_error);
}

TEST_CASE("metrics with a token: only Authorization: Bearer <token> is let in") {
    config::Config config;
    config.server.static_dir = "";
    config.server.metrics_token = "0123456789abcdef-metrics";
    rooms::RoomDirectory directory({}, 1);
    core::Metrics metrics(1);
    http::HttpRoutes routes(config, directory, metrics, [] { return std::nullopt; });
    for (const char* refused : {"", "Bearer", "Bearer ", "Basic 0123456789abcdef-metrics",
                                "Bearer 0123456789abcdef-metricz", "Bearer 0123456789abcdef",
                                "Bearer 0123456789abcdef-metrics ", "0123456789abcdef-metrics"}) {
        CAPTURE(refused);
        const http::HttpReply reply = routes.handle("GET", "/metrics", refused);
        CHECK(reply.status == 401);
        CHECK(reply.body.find("haven_") == std::string::npos);
    }
    CHECK(routes.handle("GET", "/metrics", "Bearer 0123456789abcdef-metrics").status == 200);
    CHECK(routes.handle("GET", "/metrics", "bearer 0123456789abcdef-metrics").status == 200);
    CHECK(routes.handle("GET", "/healthz").status == 200);
}

TEST_CASE("security headers: a strict policy naming only the client's own WebSocket") {
    config::TlsConfig tls;
    tls.hsts_max_age_seconds = 1234;
    const auto find = [](const http::HeaderList& headers, const std::string& name) {
        for (const auto& [key, value] : headers) {
            if (key == name) return std::optional<std::string>(value);
        }
        return std::optional<std::string>();
    };
    const http::HeaderList plain = http::security_headers(tls, false, "chat.example:8080");
    CHECK(find(plain, "Content-Security-Policy") ==
          "default-src 'self'; connect-src 'self' ws://chat.example:8080 wss://chat.example:8080; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    CHECK(find(plain, "X-Content-Type-Options") == "nosniff");
    CHECK(find(plain, "Referrer-Policy") == "no-referrer");
    CHECK(find(plain, "X-Frame-Options") == "DENY");
    CHECK_FALSE(find(plain, "Strict-Transport-Security"));
    const http::HeaderList secure = http::security_headers(tls, true, "chat.example");
    CHECK(find(secure, "Strict-Transport-Security") == "max-age=1234");
    CHECK(http::content_security_policy(true, "chat.example").find("ws://") == std::string::npos);
    // A Host that is not a plain host[:port] is left out: 'self' alone stands.
    for (const char* odd :
         {"", "evil.example; script-src *", "[::1]:8080", "a b", "host:", "h:123456", "host:80x"}) {
        CAPTURE(odd);
        CHECK(http::content_security_policy(false, odd).find("connect-src 'self';") !=
              std::string::npos);
    }
}
