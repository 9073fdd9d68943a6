// haven-load's command line. Every figure a workload needs is an option, so scripts/bench.sh
// describes each workload in one line and the same binary serves the ctest smoke run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace haven::load {

enum class Mode { broadcast, rooms, idle, storm };

struct Options {
    Mode mode = Mode::broadcast;
    std::string label;                 // workload name carried into the report (e.g. "W1")
    std::vector<std::string> servers;  // host:port, clients spread round-robin
    std::vector<pid_t> server_pids;    // sampled for CPU and RSS
    std::string spawn_server;          // haven-server binary to start on a free port
    unsigned shards = 1;               // for --spawn-server

    unsigned connections = 100;  // broadcast: subscribers; other modes: all clients
    unsigned publishers = 0;     // broadcast: extra posting clients (0: enough for the rate)
    unsigned rooms = 0;          // rooms/idle/storm (0: one room per 20 clients); broadcast: 1
    std::string room_prefix = "load-";

    std::vector<double> rates;  // posts per second, one measured step each
    double duration_s = 5;      // per step (broadcast, rooms) or hold time (idle)
    double drain_s = 2;         // longest wait after a step for its deliveries
    unsigned in_flight = 256;   // connections between connect() and Joined
    unsigned local_addresses = 16;
    bool room_list = false;       // ask for the room list in each Welcome (a first visit)
    unsigned payload_bytes = 32;  // post text length
    unsigned batch_us = 0;        // minimum µs between epoll waits (see PoolSettings::batch_ns)
    double settle_ms = 300;       // quiet time after setup before measuring (presence floods)
    double setup_timeout_s = 120;

    double min_delivered = 0.999;  // a step passes with at least this delivered ratio ...
    double max_p99_ms = 50;        // ... and p99 at most this
    bool stop_on_fail = false;     // rate search: stop after the first failing step
    bool check = false;            // exit 1 unless every step passes with no errors

    std::string json_path;  // one JSON object per run; "-" = stdout
    bool quiet = false;     // no human summary
};

// Parses argv; prints help or an error and exits on bad input.
Options parse_options(int argc, char** argv);

const char* mode_name(Mode mode);

}  // namespace haven::load
