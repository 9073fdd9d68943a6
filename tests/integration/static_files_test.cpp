// Static files over HTTP from the real server: what an anonymous client can read from disk.
#include <doctest/doctest.h>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

TEST_CASE("static files: with static_dir empty no file on the machine is served") {
    ServerProcess server({.toml = "[server]\nstatic_dir = \"\"\n"});
    require_started(server);
    for (const std::string path : {"/proc/self/environ", "/etc/passwd", "/etc/hostname", "/"}) {
        CAPTURE(path);
        const HttpResult result = http_get(server.port(), path);
        CHECK(result.status == 404);
        CHECK(result.body.find("root:") == std::string::npos);
    }
    CHECK(http_get(server.port(), "/healthz").status == 200);
    CHECK(http_get(server.port(), "/api/rooms").status == 200);
    CHECK(server.stop(SIGINT) == std::optional<int>(0));
}

}  // namespace
}  // namespace haven::test
