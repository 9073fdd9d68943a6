#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <spdlog/spdlog.h>

#include "protocol/codec.hpp"

int main(int argc, char** argv) {
    // Decoding invalid input is part of what the tests do; keep libprotobuf's diagnostics out
    // of the output, as the server does.
    haven::protocol::install_quiet_protobuf_logging();
    // Connection notices from the brokers under test would drown doctest's report.
    spdlog::set_level(spdlog::level::warn);
    doctest::Context context(argc, argv);
    return context.run();
}
