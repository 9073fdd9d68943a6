// Everything the configuration names outside itself (crisis lists, TLS certificate and key,
// the identity system's public key, the static folder, the audit log, the listening address),
// loaded and checked once by the same code for `haven-server --check-config` and for a real
// start, so that "configuration ok" means the server would start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "http/static_files.hpp"
#include "moderation/crisis_detector.hpp"

namespace haven::app {

struct StartupResources {
    std::string jwt_public_key;                          // PEM; empty when not configured
    std::unique_ptr<moderation::CrisisDetector> crisis;  // null: crisis detection off
    std::unique_ptr<boost::asio::ssl::context> tls;      // null: plain ws:// and http://
    http::StaticFiles static_files;
    // Things that do not stop the start but an operator should hear about (e.g. the web
    // client not built yet), one line each.
    std::vector<std::string> warnings;
};

// Throws std::runtime_error with one line naming the option when something it names cannot
// be used. Creates nothing on disk.
StartupResources load_startup_resources(const config::Config& config);

}  // namespace haven::app
