#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "http/http_routes.hpp"

using namespace haven;

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
