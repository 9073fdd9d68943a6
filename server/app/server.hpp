// The whole server assembled: shards, their Hubs and Brokers, listeners, HTTP routes, TLS,
// housekeeping timers and the shutdown signals. main() builds one and runs it.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "config/config.hpp"

namespace haven::app {

class Server {
public:
    // Builds everything and binds the listening port; throws std::runtime_error with one
    // line (e.g. address in use, unreadable certificate) when it cannot.
    explicit Server(config::Config config);
    ~Server();

    // Serves until SIGINT or SIGTERM, then closes every connection (going away) and returns
    // once they are gone or the grace period has passed.
    void run();

private:
    struct Parts;
    std::unique_ptr<Parts> parts_;
};

}  // namespace haven::app
