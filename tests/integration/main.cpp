// Integration tests: each test case starts the real haven-server binary on a free loopback
// port and talks to it over real WebSockets.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
    // A server that closes first must surface as an error on the next write, not kill us.
    std::signal(SIGPIPE, SIG_IGN);
    doctest::Context context(argc, argv);
    return context.run();
}
