// --spawn-server: runs a haven-server for the duration of one haven-load run, so the smoke
// test (and anyone trying the tool) needs no server of their own. The server gets a load-test
// configuration in a temporary directory (guests on, limits raised so the generator's rate is
// not refused, the rooms the run uses) and a free loopback port; it is stopped with SIGINT
// (no drain grace) and the directory removed when the run ends.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace haven::load {

struct SpawnSettings {
    std::string binary;
    unsigned shards = 1;
    unsigned rooms = 1;
    std::string room_prefix;
    unsigned room_capacity = 100000;
};

class SpawnedServer {
public:
    // Starts the server and waits until it accepts connections; throws with the server's log
    // when it does not come up.
    explicit SpawnedServer(const SpawnSettings& settings);
    ~SpawnedServer();
    SpawnedServer(const SpawnedServer&) = delete;
    SpawnedServer& operator=(const SpawnedServer&) = delete;

    pid_t pid() const { return pid_; }
    std::uint16_t port() const { return port_; }

private:
    std::string dir_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

// The configuration --spawn-server writes.
std::string load_test_config(const SpawnSettings& settings, std::uint16_t port);

}  // namespace haven::load
