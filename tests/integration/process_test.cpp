// haven-server as an operating-system process: signals other than the shutdown ones, and
// sharing its port with nobody but its own shards.
#include <doctest/doctest.h>

#include <algorithm>
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

TEST_CASE("a second server on a port already served refuses to start and the first keeps it") {
    ServerProcess first;
    require_started(first);
    const auto start = std::chrono::steady_clock::now();
    const RunResult second = run_server_with_config(first.config_text(), 5s);
    CHECK(std::chrono::steady_clock::now() - start < 4s);
    REQUIRE(second.exit_status.has_value());
    CHECK(*second.exit_status != 0);
    const std::string output = second.out + second.err;
    CAPTURE(output);
    CHECK(output.find("cannot listen") != std::string::npos);
    CHECK(output.find(std::to_string(first.port())) != std::string::npos);
    CHECK(output.find("another process") != std::string::npos);
    CHECK(std::count(output.begin(), output.end(), '\n') == 1);
    // Every connection still reaches the first server, which is the only one listening.
    for (int i = 0; i < 20; ++i) CHECK(http_get(first.port(), "/healthz").status == 200);
    CHECK(first.running());
    CHECK(first.stop(SIGINT) == std::optional<int>(0));
}

}  // namespace
}  // namespace haven::test
