#include "process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace haven::load {
namespace {

bool g_schedstat_used = false;

std::int64_t read_rss_kb(const std::string& status_path) {
    std::ifstream in(status_path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
    }
    return 0;
}

// utime + stime of the whole process (live and exited threads), in nanoseconds.
bool read_stat_cpu(pid_t pid, std::int64_t& cpu_ns) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(in, text)) return false;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const std::size_t close = text.rfind(')');
    if (close == std::string::npos) return false;
    const char* p = text.c_str() + close + 2;  // field 3 (state)
    unsigned long long utime = 0, stime = 0;
    // Fields 3..15: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    // stime
    if (std::sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
        2) {
        return false;
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    cpu_ns = static_cast<std::int64_t>((utime + stime) *
                                       (1'000'000'000ull / static_cast<unsigned long long>(ticks)));
    return true;
}

// Sum of the first field of /proc/<pid>/task/*/schedstat: nanoseconds on a CPU per thread.
// Precise, but threads that have exited are no longer listed; the server's threads live as
// long as the process, so that does not matter here.
bool read_schedstat_cpu(pid_t pid, std::int64_t& cpu_ns) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* tasks = ::opendir(dir.c_str());
    if (tasks == nullptr) return false;
    std::int64_t total = 0;
    bool any = false;
    while (dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream in(dir + "/" + entry->d_name + "/schedstat");
        long long run_ns = 0;
        if (in >> run_ns) {
            total += run_ns;
            any = true;
        }
    }
    ::closedir(tasks);
    if (!any) return false;
    cpu_ns = total;
    return true;
}

}  // namespace

ProcessSample sample_process(pid_t pid) {
    ProcessSample sample;
    if (read_schedstat_cpu(pid, sample.cpu_ns)) {
        g_schedstat_used = true;
    } else if (!read_stat_cpu(pid, sample.cpu_ns)) {
        return sample;
    }
    sample.rss_kb = read_rss_kb("/proc/" + std::to_string(pid) + "/status");
    sample.ok = true;
    return sample;
}

const char* cpu_source() {
    return g_schedstat_used ? "schedstat" : "stat";
}

ProcessSample sample_self() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    ProcessSample sample;
    sample.ok = true;
    const auto to_ns = [](const timeval& tv) {
        return std::int64_t{tv.tv_sec} * 1'000'000'000 + std::int64_t{tv.tv_usec} * 1000;
    };
    sample.user_ns = to_ns(usage.ru_utime);
    sample.sys_ns = to_ns(usage.ru_stime);
    sample.cpu_ns = sample.user_ns + sample.sys_ns;
    sample.rss_kb = read_rss_kb("/proc/self/status");
    return sample;
}

MachineInfo machine_info() {
    MachineInfo info;
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0 && info.cpu_model.empty()) {
            const std::size_t colon = line.find(':');
            if (colon != std::string::npos) info.cpu_model = line.substr(colon + 2);
        }
    }
    info.cores = static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN));
    utsname names{};
    if (::uname(&names) == 0) info.kernel = std::string(names.sysname) + " " + names.release;
    sample_machine_load(info);
    return info;
}

void sample_machine_load(MachineInfo& info) {
    std::ifstream load("/proc/loadavg");
    if (!(load >> info.load_average_1m)) info.load_average_1m = -1;
    std::ifstream pressure("/proc/pressure/cpu");
    std::string line;
    if (std::getline(pressure, line)) {  // "some avg10=64.63 avg60=72.99 ..."
        const std::size_t at = line.find("avg10=");
        if (at != std::string::npos)
            info.cpu_pressure_some_avg10 = std::atof(line.c_str() + at + 6);
    }
}

std::uint64_t raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur;
}

}  // namespace haven::load
