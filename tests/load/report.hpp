// What one run measured, and its two renderings: one JSON object (for scripts/bench.sh, which
// collects, tabulates and charts them) and a short human summary.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client_pool.hpp"
#include "latency_histogram.hpp"
#include "options.hpp"
#include "process_stats.hpp"

namespace haven::load {

// CPU and memory of the sampled servers and of the generator over one interval.
struct Usage {
    double seconds = 0;
    std::vector<pid_t> pids;
    std::vector<std::int64_t> server_cpu_ns;  // per server pid
    std::vector<std::int64_t> server_rss_kb;  // per server pid, at the end
    std::int64_t self_cpu_ns = 0;
    std::int64_t self_user_ns = 0;
    std::int64_t self_sys_ns = 0;
    std::int64_t self_rss_kb = 0;

    std::int64_t total_server_cpu_ns() const;
    std::int64_t total_server_rss_kb() const;
    bool has_servers() const { return !server_cpu_ns.empty(); }
};

// Takes the samples at the start of an interval; finish() turns them into a Usage.
class UsageMeter {
public:
    UsageMeter(std::vector<pid_t> pids);
    Usage finish() const;

private:
    std::vector<pid_t> pids_;
    std::vector<ProcessSample> start_;
    ProcessSample self_start_;
    std::int64_t start_ns_;
};

// A measured interval of posting at one rate.
struct StepReport {
    double target_rate = 0;
    double send_seconds = 0;
    Counters delta;  // counters over the step (sends, deliveries, errors ...)
    LatencyHistogram latency;
    Usage usage;
    bool pass = false;

    double delivered_ratio() const;
    double deliveries_per_second() const;
    double posts_per_second() const;
};

struct SetupReport {
    unsigned requested = 0;
    unsigned ready = 0;
    unsigned failed = 0;
    double seconds = 0;         // first connect to last Joined
    double settle_seconds = 0;  // then until the server was quiet
    LatencyHistogram join_latency;
    Usage usage;
    std::int64_t server_rss_before_kb = 0;  // before the first connection
};

struct IdleReport {
    double hold_seconds = 0;
    Usage usage;  // over the hold
    std::int64_t rss_per_connection_bytes = 0;
};

struct RunReport {
    const Options* options = nullptr;
    MachineInfo machine;
    std::vector<std::string> servers;
    unsigned clients = 0;
    unsigned rooms = 0;
    SetupReport setup;
    std::vector<StepReport> steps;
    std::optional<IdleReport> idle;
    Counters totals;
    std::vector<std::string> error_samples;
    std::uint64_t open_file_limit = 0;

    bool passed() const;  // every step passed and nothing went wrong
};

void write_json(std::ostream& out, const RunReport& report);
void write_summary(std::ostream& out, const RunReport& report);

}  // namespace haven::load
