#include "scenario.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "clock.hpp"

namespace haven::load {
namespace {

Counters difference(const Counters& later, const Counters& earlier) {
    Counters d;
    d.posts_sent = later.posts_sent - earlier.posts_sent;
    d.expected_deliveries = later.expected_deliveries - earlier.expected_deliveries;
    d.acks = later.acks - earlier.acks;
    d.window_deliveries = later.window_deliveries - earlier.window_deliveries;
    d.late_deliveries = later.late_deliveries - earlier.late_deliveries;
    d.foreign_posts = later.foreign_posts - earlier.foreign_posts;
    d.other_events = later.other_events - earlier.other_events;
    d.seq_gaps = later.seq_gaps - earlier.seq_gaps;
    d.seq_repeats = later.seq_repeats - earlier.seq_repeats;
    d.errors = later.errors - earlier.errors;
    for (std::size_t i = 0; i < d.error_codes.size(); ++i) {
        d.error_codes[i] = later.error_codes[i] - earlier.error_codes[i];
    }
    d.reconnects = later.reconnects - earlier.reconnects;
    d.closes = later.closes - earlier.closes;
    d.close_slow_consumer = later.close_slow_consumer - earlier.close_slow_consumer;
    d.malformed = later.malformed - earlier.malformed;
    d.connect_failures = later.connect_failures - earlier.connect_failures;
    d.setup_failures = later.setup_failures - earlier.setup_failures;
    d.dropped_ready = later.dropped_ready - earlier.dropped_ready;
    d.reads = later.reads - earlier.reads;
    d.bytes_received = later.bytes_received - earlier.bytes_received;
    d.frames_received = later.frames_received - earlier.frames_received;
    return d;
}

std::int64_t seconds_to_ns(double s) {
    return static_cast<std::int64_t>(s * 1e9);
}

// Connects and joins every client, then waits until the presence events the joins caused have
// stopped arriving (or settle time runs out), so that measurements start from a quiet server.
void set_up(const Options& o, ClientPool& pool, const std::vector<pid_t>& pids, RunReport& report) {
    report.setup.requested = static_cast<unsigned>(pool.clients());
    for (pid_t pid : pids) {
        const ProcessSample before = sample_process(pid);
        if (before.ok) report.setup.server_rss_before_kb += before.rss_kb;
    }
    UsageMeter meter(pids);
    const std::int64_t start = now_ns();
    const std::int64_t deadline = start + seconds_to_ns(o.setup_timeout_s);
    while (!pool.setup_done() && now_ns() < deadline) pool.poll(5);
    const std::int64_t joined = std::max(pool.last_joined_ns(), start);
    report.setup.ready = pool.ready();
    report.setup.failed = static_cast<unsigned>(pool.clients()) - pool.ready();
    report.setup.seconds = static_cast<double>(joined - start) / 1e9;
    report.setup.join_latency = pool.join_latency();
    report.setup.usage = meter.finish();

    // Settled: no frame for settle_ms, and the servers used under a tenth of a CPU meanwhile.
    // Frames alone are not enough: a server short of CPU (other work on its core) can be
    // silent for a moment while still behind on the joins' presence events.
    const std::int64_t settle_start = now_ns();
    const std::int64_t quiet = seconds_to_ns(o.settle_ms / 1000.0);
    const std::int64_t settle_deadline =
        settle_start + std::max<std::int64_t>(quiet, seconds_to_ns(30));
    const auto server_cpu = [&] {
        std::int64_t total = 0;
        for (pid_t pid : pids) total += sample_process(pid).cpu_ns;
        return total;
    };
    std::int64_t window_start = settle_start;
    std::int64_t window_cpu = server_cpu();
    for (;;) {
        pool.poll(10);
        const std::int64_t now = now_ns();
        if (now >= settle_deadline) break;
        if (now - window_start < quiet) continue;
        const std::int64_t cpu = server_cpu();
        const bool frames_quiet = now - pool.last_frame_ns() >= quiet;
        const bool servers_idle = (cpu - window_cpu) * 10 < (now - window_start);
        if (frames_quiet && servers_idle) break;
        window_start = now;
        window_cpu = cpu;
    }
    report.setup.settle_seconds = static_cast<double>(now_ns() - settle_start) / 1e9;
}

// One step: posts at `rate` from `posters` (round robin) for the step duration, then waits up
// to the drain time for the step's deliveries. Deliveries are attributed to the step by the
// publish time they carry, so stragglers of an earlier step never count here.
StepReport run_step(const Options& o, ClientPool& pool, const std::vector<std::uint32_t>& posters,
                    const std::vector<pid_t>& pids, double rate) {
    StepReport step;
    step.target_rate = rate;
    const Counters before = pool.counters();
    UsageMeter meter(pids);
    const std::int64_t start = now_ns();
    pool.set_window(start, &step.latency);
    const std::int64_t end = start + seconds_to_ns(o.duration_s);
    const double ns_per_post = 1e9 / rate;
    std::uint64_t sent = 0;
    std::size_t next = 0;
    std::int64_t now = start;
    while (now < end) {
        // Open loop: the schedule says how many posts are due by now; late ones go out at once,
        // so a slow server does not slow the offered load down (that would hide queueing).
        const auto due =
            static_cast<std::uint64_t>(static_cast<double>(now - start) / ns_per_post) + 1;
        std::size_t attempts = 0;
        while (sent < due && attempts < posters.size()) {
            const std::uint32_t poster = posters[next];
            next = (next + 1) % posters.size();
            if (pool.post(poster)) {
                ++sent;
                attempts = 0;
            } else {
                ++attempts;  // a poster that dropped out; try the next one
            }
        }
        if (attempts >= posters.size()) break;  // nobody left to post
        const double next_due =
            static_cast<double>(start) + static_cast<double>(sent) * ns_per_post;
        const double wait_ms = (next_due - static_cast<double>(now_ns())) / 1e6;
        pool.poll(std::clamp(static_cast<int>(std::ceil(wait_ms)), 0, 5));
        now = now_ns();
    }
    step.send_seconds = static_cast<double>(now - start) / 1e9;
    const std::int64_t drain_end = now + seconds_to_ns(o.drain_s);
    while (now_ns() < drain_end) {
        const Counters& c = pool.counters();
        if (c.window_deliveries - before.window_deliveries >=
            c.expected_deliveries - before.expected_deliveries) {
            break;
        }
        pool.poll(2);
    }
    step.usage = meter.finish();
    step.delta = difference(pool.counters(), before);
    pool.set_window(INT64_MAX, nullptr);
    const double p99_ms = static_cast<double>(step.latency.quantile_us(0.99)) / 1000.0;
    step.pass = step.delta.expected_deliveries > 0 && step.delivered_ratio() >= o.min_delivered &&
                p99_ms <= o.max_p99_ms;
    return step;
}

}  // namespace

void run_scenario(const Options& o, const std::vector<Endpoint>& servers,
                  const std::vector<pid_t>& pids, RunReport& report) {
    PoolSettings settings;
    settings.servers = servers;
    settings.local_addresses = o.local_addresses;
    settings.max_in_flight = o.in_flight;
    settings.room_list = o.room_list;
    settings.batch_ns = std::int64_t{o.batch_us} * 1000;
    settings.post_text.assign(o.payload_bytes, 'x');
    for (unsigned i = 0; i < o.rooms; ++i)
        settings.room_ids.push_back(o.room_prefix + std::to_string(i));
    ClientPool pool(std::move(settings));

    std::vector<std::uint32_t> posters;
    if (o.mode == Mode::broadcast) {
        // Publishers first, so they are ready before the subscribers' joins flood the room.
        for (unsigned i = 0; i < o.publishers; ++i) posters.push_back(pool.add_client(0));
        for (unsigned i = 0; i < o.connections; ++i) pool.add_client(0);
    } else {
        // Client i joins room i % R: rooms fill evenly, and posting round robin over the
        // clients visits the rooms in turn.
        for (unsigned i = 0; i < o.connections; ++i) {
            const std::uint32_t client = pool.add_client(i % o.rooms);
            if (o.mode == Mode::rooms) posters.push_back(client);
        }
    }
    report.clients = static_cast<unsigned>(pool.clients());
    report.rooms = o.rooms;

    set_up(o, pool, pids, report);

    if (o.mode == Mode::broadcast || o.mode == Mode::rooms) {
        for (double rate : o.rates) {
            report.steps.push_back(run_step(o, pool, posters, pids, rate));
            if (o.stop_on_fail && !report.steps.back().pass) break;
        }
    } else if (o.mode == Mode::idle) {
        IdleReport idle;
        UsageMeter meter(pids);
        const std::int64_t end = now_ns() + seconds_to_ns(o.duration_s);
        while (now_ns() < end) pool.poll(50);  // answers pings, notices drops
        idle.usage = meter.finish();
        idle.hold_seconds = idle.usage.seconds;
        if (pool.ready() > 0 && idle.usage.has_servers()) {
            idle.rss_per_connection_bytes =
                (idle.usage.total_server_rss_kb() - report.setup.server_rss_before_kb) * 1024 /
                static_cast<std::int64_t>(pool.ready());
        }
        report.idle = idle;
    }
    report.totals = pool.counters();
    report.error_samples = pool.error_samples();
    pool.close_all();
}

}  // namespace haven::load
