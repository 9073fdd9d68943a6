// CPU time and memory of processes, read from /proc, and of the generator itself
// (getrusage). The server's figures are taken around each measured interval so that the
// per-delivery CPU cost covers exactly the traffic the generator drove.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace haven::load {

struct ProcessSample {
    bool ok = false;
    std::int64_t cpu_ns = 0;   // user + system, all threads
    std::int64_t user_ns = 0;  // sample_self only: the generator's own code ...
    std::int64_t sys_ns = 0;   // ... and the kernel's work for it (syscalls, loopback TCP)
    std::int64_t rss_kb = 0;   // VmRSS
};

// Reads /proc/<pid>. CPU comes from the per-thread schedstat run times (nanoseconds) when the
// kernel provides them, otherwise from utime + stime in /proc/<pid>/stat (clock ticks, 10 ms);
// `cpu_source` says which, for the report.
ProcessSample sample_process(pid_t pid);
const char* cpu_source();

// This process: user + system CPU from getrusage(RUSAGE_SELF), and its own VmRSS.
ProcessSample sample_self();

// What the report says about the machine: CPU model, cores, kernel, and how busy it was with
// other work (figures from a shared machine are only comparable when that was low).
struct MachineInfo {
    std::string cpu_model;
    unsigned cores = 0;
    std::string kernel;
    double load_average_1m = -1;          // /proc/loadavg
    double cpu_pressure_some_avg10 = -1;  // /proc/pressure/cpu: % of time tasks waited for a CPU
};
MachineInfo machine_info();
// Refreshes the load figures (taken at the end of a run).
void sample_machine_load(MachineInfo& info);

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
std::uint64_t raise_open_file_limit();

}  // namespace haven::load
