// haven-load: a load generator for Haven speaking its binary protocol (haven.v1.proto).
// See tests/load/README.md for the modes and scripts/bench.sh for the benchmark suite built
// on it. Exit status: 0 done (with --check: every step passed and nothing went wrong),
// 1 --check failed, 2 bad usage or the run could not start.
#include <arpa/inet.h>
#include <netdb.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "options.hpp"
#include "process_stats.hpp"
#include "report.hpp"
#include "scenario.hpp"
#include "server_spawn.hpp"

namespace {

using namespace haven::load;

Endpoint resolve(const std::string& host_port) {
    const std::size_t colon = host_port.rfind(':');
    if (colon == std::string::npos)
        throw std::runtime_error("server '" + host_port + "' is not host:port");
    const std::string host = host_port.substr(0, colon);
    const std::string port = host_port.substr(colon + 1);
    addrinfo hints{};
    hints.ai_family = AF_INET;  // the clients bind 127.0.0.x source addresses
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
        throw std::runtime_error("cannot resolve '" + host_port + "'");
    }
    Endpoint endpoint;
    endpoint.address = *reinterpret_cast<const sockaddr_in*>(found->ai_addr);
    endpoint.host_port = host_port;
    ::freeaddrinfo(found);
    return endpoint;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    RunReport report;
    report.options = &options;
    report.machine = machine_info();
    // Thousands of sockets: take all the descriptors the hard limit allows.
    report.open_file_limit = raise_open_file_limit();
    const std::uint64_t needed = options.connections + options.publishers + 64;
    if (report.open_file_limit < needed) {
        std::fprintf(
            stderr,
            "haven-load: %u connections need about %llu descriptors but RLIMIT_NOFILE is %llu; "
            "split the clients over several processes\n",
            options.connections + options.publishers, static_cast<unsigned long long>(needed),
            static_cast<unsigned long long>(report.open_file_limit));
        return 2;
    }

    try {
        std::unique_ptr<SpawnedServer> spawned;
        std::vector<Endpoint> servers;
        std::vector<pid_t> pids = options.server_pids;
        if (!options.spawn_server.empty()) {
            SpawnSettings spawn;
            spawn.binary = options.spawn_server;
            spawn.shards = options.shards;
            spawn.rooms = options.rooms;
            spawn.room_prefix = options.room_prefix;
            spawned = std::make_unique<SpawnedServer>(spawn);
            servers.push_back(resolve("127.0.0.1:" + std::to_string(spawned->port())));
            pids.push_back(spawned->pid());
        } else {
            for (const std::string& s : options.servers) servers.push_back(resolve(s));
        }
        for (const Endpoint& e : servers) report.servers.push_back(e.host_port);

        run_scenario(options, servers, pids, report);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "haven-load: %s\n", error.what());
        return 2;
    }

    sample_machine_load(report.machine);
    if (!options.quiet) write_summary(options.json_path == "-" ? std::cerr : std::cout, report);
    if (options.json_path == "-") {
        write_json(std::cout, report);
    } else if (!options.json_path.empty()) {
        std::ofstream out(options.json_path, std::ios::app);
        write_json(out, report);
        if (!out) {
            std::fprintf(stderr, "haven-load: cannot write %s\n", options.json_path.c_str());
            return 2;
        }
    }
    if (options.check && !report.passed()) {
        std::fprintf(
            stderr,
            "haven-load: check failed (a step missed the criteria or something went wrong)\n");
        return 1;
    }
    return 0;
}
