// haven-server as an operating-system process: signals other than the shutdown ones, and
// sharing its port with nobody but its own shards.
#include <doctest/doctest.h>

#include <thread>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

TEST_CASE(
    "SIGHUP: the server keeps serving, says a restart applies changes, and SIGTERM still stops "
    "it") {
    ServerProcess server({.toml = "[server]\ndrain_grace_ms = 0\n"});
    require_started(server);
    Client a = guest_in(server, Encoding::binary, "lobby");
    REQUIRE(server.signal(SIGHUP));
    // A second one too: the handler must be armed again after the first.
    CHECK(eventually([&] { return server.log().find("SIGHUP") != std::string::npos; }));
    REQUIRE(server.signal(SIGHUP));
    std::this_thread::sleep_for(200ms);
    CHECK(server.running());
    CHECK(http_get(server.port(), "/healthz").status == 200);
    a.ping();
    CHECK(server.log().find("restart") != std::string::npos);
    a.ws().close();
    CHECK(server.stop(SIGTERM) == std::optional<int>(0));
}

}  // namespace
}  // namespace haven::test
