// The load report: percentiles, the floor ratios and the JSON and text output. Over 400 lines: one
// report format, written and read in one place.
#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <string_view>

#include "clock.hpp"

namespace haven::load {
namespace {

// A minimal JSON writer: the report is a fixed shape of objects, numbers and short strings.
class Json {
public:
    explicit Json(std::ostream& out) : out_(out) {}

    Json& open(char bracket) {
        comma();
        out_ << bracket;
        first_ = true;
        return *this;
    }
    Json& close(char bracket) {
        out_ << bracket;
        first_ = false;
        return *this;
    }
    Json& key(std::string_view name) {
        comma();
        string(name);
        out_ << ':';
        first_ = true;  // the value follows without a comma
        return *this;
    }
    Json& value(std::string_view text) {
        comma();
        string(text);
        return *this;
    }
    Json& value(double number) {
        comma();
        if (!std::isfinite(number)) {
            out_ << "null";
        } else {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.6g", number);
            out_ << buffer;
        }
        return *this;
    }
    Json& value(std::uint64_t number) {
        comma();
        out_ << number;
        return *this;
    }
    Json& value(std::int64_t number) {
        comma();
        out_ << number;
        return *this;
    }
    Json& value(unsigned number) { return value(std::uint64_t{number}); }
    Json& value(int number) { return value(std::int64_t{number}); }
    Json& value(bool flag) {
        comma();
        out_ << (flag ? "true" : "false");
        return *this;
    }
    template <class T>
    Json& field(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }

private:
    void comma() {
        if (!first_) out_ << ',';
        first_ = false;
    }
    void string(std::string_view text) {
        out_ << '"';
        for (char c : text) {
            if (c == '"' || c == '\\') {
                out_ << '\\' << c;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                out_ << buffer;
            } else {
                out_ << c;
            }
        }
        out_ << '"';
    }

    std::ostream& out_;
    bool first_ = true;
};

double us_to_ms(std::uint64_t us) {
    return static_cast<double>(us) / 1000.0;
}

void latency_json(Json& j, std::string_view name, const LatencyHistogram& h) {
    j.key(name).open('{');
    j.field("count", h.count());
    j.field("p50", us_to_ms(h.quantile_us(0.50)));
    j.field("p90", us_to_ms(h.quantile_us(0.90)));
    j.field("p99", us_to_ms(h.quantile_us(0.99)));
    j.field("p999", us_to_ms(h.quantile_us(0.999)));
    j.field("max", us_to_ms(h.max_us()));
    j.field("mean", h.mean_us() / 1000.0);
    j.close('}');
}

void usage_json(Json& j, const Usage& u, std::uint64_t deliveries) {
    j.key("usage").open('{');
    j.field("seconds", u.seconds);
    if (u.has_servers()) {
        const double cpu_ms = static_cast<double>(u.total_server_cpu_ns()) / 1e6;
        j.field("server_cpu_ms", cpu_ms);
        j.field("server_cpu_pct", u.seconds > 0 ? cpu_ms / 10.0 / u.seconds : 0.0);
        j.field("server_rss_kb", u.total_server_rss_kb());
        if (deliveries > 0) {
            j.field("server_cpu_us_per_delivery",
                    cpu_ms * 1000.0 / static_cast<double>(deliveries));
        }
        j.key("servers").open('[');
        for (std::size_t i = 0; i < u.pids.size(); ++i) {
            j.open('{');
            j.field("pid", static_cast<std::int64_t>(u.pids[i]));
            j.field("cpu_ms", static_cast<double>(u.server_cpu_ns[i]) / 1e6);
            j.field("rss_kb", u.server_rss_kb[i]);
            j.close('}');
        }
        j.close(']');
        j.field("cpu_source", std::string_view(cpu_source()));
    }
    const double self_ms = static_cast<double>(u.self_cpu_ns) / 1e6;
    j.field("generator_cpu_ms", self_ms);
    j.field("generator_cpu_pct", u.seconds > 0 ? self_ms / 10.0 / u.seconds : 0.0);
    if (deliveries > 0) {
        const auto per = [&](std::int64_t ns) {
            return static_cast<double>(ns) / 1000.0 / static_cast<double>(deliveries);
        };
        j.field("generator_cpu_us_per_delivery", per(u.self_cpu_ns));
        // Split: the tool's own code, and the kernel's work for it (mostly read() and the
        // loopback TCP path, which shrinks per delivery as more frames come per read).
        j.field("generator_user_us_per_delivery", per(u.self_user_ns));
        j.field("generator_sys_us_per_delivery", per(u.self_sys_ns));
    }
    j.field("generator_rss_kb", u.self_rss_kb);
    j.close('}');
}

void counters_json(Json& j, const Counters& c) {
    j.field("posts", c.posts_sent);
    j.field("acks", c.acks);
    j.field("expected_deliveries", c.expected_deliveries);
    j.field("delivered", c.window_deliveries);
    j.field("late_deliveries", c.late_deliveries);
    j.field("other_events", c.other_events);
    j.field("seq_gaps", c.seq_gaps);
    j.field("seq_repeats", c.seq_repeats);
    j.key("errors").open('{');
    j.field("total", c.error_total());
    j.field("error_replies", c.errors);
    j.field("reconnects", c.reconnects);
    j.field("server_closes", c.closes);
    j.field("slow_consumer_closes", c.close_slow_consumer);
    j.field("malformed", c.malformed);
    j.field("connect_failures", c.connect_failures);
    j.field("setup_failures", c.setup_failures);
    j.field("dropped_connections", c.dropped_ready);
    j.key("by_code").open('{');
    for (std::size_t code = 0; code < c.error_codes.size(); ++code) {
        if (c.error_codes[code] != 0) j.field(std::to_string(code), c.error_codes[code]);
    }
    j.close('}');
    j.close('}');
    j.field("reads", c.reads);
    j.field("frames_received", c.frames_received);
    j.field("bytes_received", c.bytes_received);
    j.field("frames_per_read",
            c.reads ? static_cast<double>(c.frames_received) / static_cast<double>(c.reads) : 0.0);
}

}  // namespace

std::int64_t Usage::total_server_cpu_ns() const {
    std::int64_t total = 0;
    for (std::int64_t v : server_cpu_ns) total += v;
    return total;
}

std::int64_t Usage::total_server_rss_kb() const {
    std::int64_t total = 0;
    for (std::int64_t v : server_rss_kb) total += v;
    return total;
}

UsageMeter::UsageMeter(std::vector<pid_t> pids) : pids_(std::move(pids)) {
    for (pid_t pid : pids_) start_.push_back(sample_process(pid));
    self_start_ = sample_self();
    start_ns_ = now_ns();
}

Usage UsageMeter::finish() const {
    Usage usage;
    usage.seconds = static_cast<double>(now_ns() - start_ns_) / 1e9;
    for (std::size_t i = 0; i < pids_.size(); ++i) {
        const ProcessSample end = sample_process(pids_[i]);
        if (!end.ok || !start_[i].ok) continue;  // a server that went away reports nothing
        usage.pids.push_back(pids_[i]);
        usage.server_cpu_ns.push_back(end.cpu_ns - start_[i].cpu_ns);
        usage.server_rss_kb.push_back(end.rss_kb);
    }
    const ProcessSample self_end = sample_self();
    usage.self_cpu_ns = self_end.cpu_ns - self_start_.cpu_ns;
    usage.self_user_ns = self_end.user_ns - self_start_.user_ns;
    usage.self_sys_ns = self_end.sys_ns - self_start_.sys_ns;
    usage.self_rss_kb = self_end.rss_kb;
    return usage;
}

double StepReport::delivered_ratio() const {
    if (delta.expected_deliveries == 0) return 0;
    return static_cast<double>(delta.window_deliveries) /
           static_cast<double>(delta.expected_deliveries);
}

double StepReport::deliveries_per_second() const {
    return send_seconds > 0 ? static_cast<double>(delta.window_deliveries) / send_seconds : 0;
}

double StepReport::posts_per_second() const {
    return send_seconds > 0 ? static_cast<double>(delta.posts_sent) / send_seconds : 0;
}

bool RunReport::passed() const {
    if (setup.failed > 0 || totals.error_total() > 0) return false;
    for (const StepReport& step : steps) {
        if (!step.pass) return false;
    }
    return setup.ready == setup.requested;
}

void write_json(std::ostream& out, const RunReport& r) {
    const Options& o = *r.options;
    Json j(out);
    j.open('{');
    j.field("tool", std::string_view("haven-load"));
    j.field("label", std::string_view(o.label));
    j.field("mode", std::string_view(mode_name(o.mode)));
    j.key("machine").open('{');
    j.field("cpu", std::string_view(r.machine.cpu_model));
    j.field("cores", r.machine.cores);
    j.field("kernel", std::string_view(r.machine.kernel));
    j.field("load_average_1m", r.machine.load_average_1m);
    j.field("cpu_pressure_some_avg10", r.machine.cpu_pressure_some_avg10);
    j.close('}');
    j.key("params").open('{');
    j.key("servers").open('[');
    for (const std::string& s : r.servers) j.value(std::string_view(s));
    j.close(']');
    j.field("clients", r.clients);
    j.field("rooms", r.rooms);
    j.field("publishers", o.mode == Mode::broadcast ? o.publishers : 0u);
    j.field("payload_bytes", o.payload_bytes);
    j.field("step_seconds", o.duration_s);
    j.field("in_flight", o.in_flight);
    j.field("room_list", o.room_list);
    j.field("batch_us", o.batch_us);
    j.field("local_addresses", o.local_addresses);
    j.field("min_delivered", o.min_delivered);
    j.field("max_p99_ms", o.max_p99_ms);
    j.field("open_file_limit", r.open_file_limit);
    j.close('}');

    j.key("setup").open('{');
    j.field("requested", r.setup.requested);
    j.field("ready", r.setup.ready);
    j.field("failed", r.setup.failed);
    j.field("seconds", r.setup.seconds);
    j.field("settle_seconds", r.setup.settle_seconds);
    j.field("joins_per_second", r.setup.seconds > 0 ? r.setup.ready / r.setup.seconds : 0.0);
    j.field("server_rss_before_kb", r.setup.server_rss_before_kb);
    latency_json(j, "join_latency_ms", r.setup.join_latency);
    usage_json(j, r.setup.usage, 0);
    j.close('}');

    j.key("steps").open('[');
    for (const StepReport& s : r.steps) {
        j.open('{');
        j.field("target_rate", s.target_rate);
        j.field("posts_per_second", s.posts_per_second());
        j.field("send_seconds", s.send_seconds);
        counters_json(j, s.delta);
        j.field("delivered_ratio", s.delivered_ratio());
        j.field("deliveries_per_second", s.deliveries_per_second());
        latency_json(j, "latency_ms", s.latency);
        usage_json(j, s.usage, s.delta.window_deliveries);
        j.field("pass", s.pass);
        j.close('}');
    }
    j.close(']');

    if (r.idle) {
        j.key("idle").open('{');
        j.field("hold_seconds", r.idle->hold_seconds);
        j.field("connections", r.setup.ready);
        j.field("server_rss_per_connection_bytes", r.idle->rss_per_connection_bytes);
        usage_json(j, r.idle->usage, 0);
        j.close('}');
    }

    j.key("totals").open('{');
    counters_json(j, r.totals);
    j.close('}');
    j.key("error_samples").open('[');
    for (const std::string& e : r.error_samples) j.value(std::string_view(e));
    j.close(']');
    j.field("passed", r.passed());
    j.close('}');
    out << '\n';
}

void write_summary(std::ostream& out, const RunReport& r) {
    const Options& o = *r.options;
    char line[512];
    std::snprintf(line, sizeof line,
                  "haven-load %s%s%s: %u/%u clients joined in %u rooms in %.2f s (%u failed), join "
                  "p50 %.1f ms p99 %.1f ms; quiet after %.2f s\n",
                  mode_name(o.mode), o.label.empty() ? "" : " ", o.label.c_str(), r.setup.ready,
                  r.setup.requested, r.rooms, r.setup.seconds, r.setup.failed,
                  us_to_ms(r.setup.join_latency.quantile_us(0.5)),
                  us_to_ms(r.setup.join_latency.quantile_us(0.99)), r.setup.settle_seconds);
    out << line;
    if (!r.steps.empty()) {
        out << "  rate/s  posts/s  delivered      ratio     deliv/s   p50ms   p90ms   p99ms  "
               "p999ms   maxms  srvCPU%  srv-us/dlv  gen-us/dlv (user)  frm/rd  errors  pass\n";
        for (const StepReport& s : r.steps) {
            const auto& u = s.usage;
            const double srv_ms = static_cast<double>(u.total_server_cpu_ns()) / 1e6;
            const double dlv = static_cast<double>(s.delta.window_deliveries);
            std::snprintf(
                line, sizeof line,
                "%8.0f %8.0f %10llu %9.4f%% %11.0f %7.2f %7.2f %7.2f %7.2f %7.2f %8s %11s %10.3f "
                "(%5.3f) %7.1f %7llu  %s\n",
                s.target_rate, s.posts_per_second(),
                static_cast<unsigned long long>(s.delta.window_deliveries),
                100.0 * s.delivered_ratio(), s.deliveries_per_second(),
                us_to_ms(s.latency.quantile_us(0.5)), us_to_ms(s.latency.quantile_us(0.9)),
                us_to_ms(s.latency.quantile_us(0.99)), us_to_ms(s.latency.quantile_us(0.999)),
                us_to_ms(s.latency.max_us()),
                u.has_servers()
                    ? std::to_string(static_cast<int>(srv_ms / 10.0 / u.seconds + 0.5)).c_str()
                    : "-",
                u.has_servers() && dlv > 0
                    ? std::to_string(srv_ms * 1000.0 / dlv).substr(0, 7).c_str()
                    : "-",
                dlv > 0 ? static_cast<double>(u.self_cpu_ns) / 1000.0 / dlv : 0.0,
                dlv > 0 ? static_cast<double>(u.self_user_ns) / 1000.0 / dlv : 0.0,
                s.delta.reads ? static_cast<double>(s.delta.frames_received) /
                                    static_cast<double>(s.delta.reads)
                              : 0.0,
                static_cast<unsigned long long>(s.delta.error_total()), s.pass ? "yes" : "NO");
            out << line;
        }
    }
    if (r.idle) {
        std::snprintf(line, sizeof line,
                      "  idle: %u joined connections held %.1f s; server RSS %lld kB (%lld kB "
                      "before), %lld bytes per connection; server CPU %.1f%% while idle\n",
                      r.setup.ready, r.idle->hold_seconds,
                      static_cast<long long>(r.idle->usage.total_server_rss_kb()),
                      static_cast<long long>(r.setup.server_rss_before_kb),
                      static_cast<long long>(r.idle->rss_per_connection_bytes),
                      r.idle->usage.seconds > 0
                          ? static_cast<double>(r.idle->usage.total_server_cpu_ns()) / 1e7 /
                                r.idle->usage.seconds
                          : 0.0);
        out << line;
    }
    if (o.mode == Mode::storm) {
        const Usage& u = r.setup.usage;
        std::snprintf(line, sizeof line,
                      "  storm: %.0f joins/s; server CPU %.0f ms (%.0f us per join), RSS %lld kB\n",
                      r.setup.seconds > 0 ? r.setup.ready / r.setup.seconds : 0.0,
                      static_cast<double>(u.total_server_cpu_ns()) / 1e6,
                      r.setup.ready
                          ? static_cast<double>(u.total_server_cpu_ns()) / 1e3 / r.setup.ready
                          : 0.0,
                      static_cast<long long>(u.total_server_rss_kb()));
        out << line;
    }
    if (r.machine.cpu_pressure_some_avg10 >= 10) {
        std::snprintf(
            line, sizeof line,
            "  note: the machine was busy with other work (load average %.1f on %u cores, tasks "
            "waiting for a CPU %.0f%% of the time): latencies include that wait\n",
            r.machine.load_average_1m, r.machine.cores, r.machine.cpu_pressure_some_avg10);
        out << line;
    }
    const Counters& t = r.totals;
    if (t.error_total() > 0 || t.seq_gaps > 0) {
        std::snprintf(
            line, sizeof line,
            "  problems: %llu error replies, %llu server closes (%llu slow consumer), %llu connect "
            "failures, %llu setup failures, %llu dropped, %llu malformed, %llu seq gaps\n",
            static_cast<unsigned long long>(t.errors), static_cast<unsigned long long>(t.closes),
            static_cast<unsigned long long>(t.close_slow_consumer),
            static_cast<unsigned long long>(t.connect_failures),
            static_cast<unsigned long long>(t.setup_failures),
            static_cast<unsigned long long>(t.dropped_ready),
            static_cast<unsigned long long>(t.malformed),
            static_cast<unsigned long long>(t.seq_gaps));
        out << line;
        for (const std::string& e : r.error_samples) out << "    " << e << "\n";
    }
}

}  // namespace haven::load
