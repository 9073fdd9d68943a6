// haven-server: reads the configuration, builds the server and runs it until SIGINT/SIGTERM.
//
// Reading order for newcomers, following one message: net/listener -> net/http_session ->
// net/websocket_session_impl.hpp -> session/client_session -> rooms/hub (owner side) ->
// broker/memory_broker -> rooms/hub::on_room_event -> back out through each member's
// websocket session.
#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include "app/server.hpp"
#include "app/startup_checks.hpp"
#include "config/config.hpp"
#include "protocol/codec.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
    po::options_description options("haven-server options");
    options.add_options()("help,h", "show this help")("version,V", "show the version and exit")(
        "config,c", po::value<std::string>()->default_value("config/haven.toml"),
        "configuration file (TOML)")("check-config", "validate the configuration and exit");
    po::variables_map args;
    try {
        po::store(po::parse_command_line(argc, argv, options), args);
        po::notify(args);
    } catch (const po::error& error) {
        std::fprintf(stderr, "haven-server: %s\n", error.what());
        return 2;
    }
    if (args.count("help")) {
        std::cout << options << "\n";
        return 0;
    }
    if (args.count("version")) {
        std::cout << "haven-server " << HAVEN_VERSION << "\n";
        return 0;
    }

    haven::config::Config config;
    try {
        config = haven::config::load_config_file(args["config"].as<std::string>());
    } catch (const haven::config::ConfigError& error) {
        std::fprintf(stderr, "%s\n", error.what());
        return 2;
    }
    if (args.count("check-config")) {
        // The same loading a start does, so "ok" means the server would start with it.
        try {
            const haven::app::StartupResources resources =
                haven::app::load_startup_resources(config);
            for (const std::string& warning : resources.warnings) {
                std::fprintf(stderr, "warning: %s\n", warning.c_str());
            }
        } catch (const std::exception& error) {
            std::fprintf(stderr, "%s\n", error.what());
            return 2;
        }
        std::printf("configuration ok\n");
        return 0;
    }

    spdlog::set_level(spdlog::level::from_str(config.log.level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    haven::protocol::install_quiet_protobuf_logging();

    try {
        haven::app::Server server(std::move(config));
        server.run();
    } catch (const std::exception& error) {
        spdlog::critical("{}", error.what());
        return 1;
    }
    return 0;
}
