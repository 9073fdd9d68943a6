#include "options.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

namespace haven::load {
namespace po = boost::program_options;
namespace {

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "haven-load: %s (see --help)\n", message.c_str());
    std::exit(2);
}

std::vector<double> parse_rate_list(const std::string& text) {
    std::vector<double> rates;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const double rate = std::strtod(item.c_str(), &end);
        if (end == item.c_str() || *end != '\0' || !(rate > 0))
            usage_error("bad rate '" + item + "'");
        rates.push_back(rate);
    }
    return rates;
}

// FROM:TO:FACTOR, e.g. 500:8000:1.5 -> 500, 750, 1125, ... up to TO.
std::vector<double> parse_ramp(const std::string& text) {
    double from = 0, to = 0, factor = 0;
    if (std::sscanf(text.c_str(), "%lf:%lf:%lf", &from, &to, &factor) != 3 || !(from > 0) ||
        !(to >= from) || !(factor > 1)) {
        usage_error("--ramp wants FROM:TO:FACTOR with 0 < FROM <= TO and FACTOR > 1");
    }
    std::vector<double> rates;
    for (double rate = from; rate <= to * 1.0001; rate *= factor) rates.push_back(std::round(rate));
    return rates;
}

}  // namespace

const char* mode_name(Mode mode) {
    switch (mode) {
        case Mode::broadcast:
            return "broadcast";
        case Mode::rooms:
            return "rooms";
        case Mode::idle:
            return "idle";
        case Mode::storm:
            return "storm";
    }
    return "?";
}

Options parse_options(int argc, char** argv) {
    Options o;
    std::string mode = "broadcast";
    std::string rate_list;
    std::string ramp;
    double rate = 0;
    std::vector<int> pids;
    po::options_description d(
        "haven-load: drives a Haven server over its binary protocol and measures it\n\n"
        "modes:\n"
        "  broadcast  --connections subscribers and --publishers in one room; posts at --rate\n"
        "  rooms      --connections clients in --rooms rooms; every client posts, --rate in total\n"
        "  idle       --connections joined clients held for --duration; server RSS per client\n"
        "  storm      connect + Hello + Join --connections clients, --in-flight at a time\n\n"
        "options");
    // One option per line reads better than the formatter's layout of this chain.
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("mode,m", po::value(&mode)->default_value(mode), "broadcast | rooms | idle | storm")
        ("label", po::value(&o.label), "workload name for the report (e.g. W1)")
        ("server,s", po::value(&o.servers), "server host:port (repeatable; clients round-robin); default 127.0.0.1:8080")
        ("server-pid", po::value(&pids), "server process to sample for CPU and RSS (repeatable)")
        ("spawn-server", po::value(&o.spawn_server), "start this haven-server binary on a free port with a load-test configuration")
        ("shards", po::value(&o.shards)->default_value(o.shards), "server.shards for --spawn-server")
        ("connections,n", po::value(&o.connections)->default_value(o.connections), "subscribers (broadcast) or clients (other modes)")
        ("publishers,p", po::value(&o.publishers)->default_value(o.publishers), "broadcast: posting clients (0 = one per 800 posts/s, at least 1)")
        ("rooms,r", po::value(&o.rooms)->default_value(o.rooms), "rooms (0 = one per 20 clients); room ids are PREFIX0..")
        ("room-prefix", po::value(&o.room_prefix)->default_value(o.room_prefix), "room id prefix")
        ("rate", po::value(&rate), "posts per second in total (one step)")
        ("rates", po::value(&rate_list), "comma-separated rates, one measured step each")
        ("ramp", po::value(&ramp), "FROM:TO:FACTOR geometric steps of the rate")
        ("duration,d", po::value(&o.duration_s)->default_value(o.duration_s), "seconds per step, or hold time in idle mode")
        ("drain", po::value(&o.drain_s)->default_value(o.drain_s), "longest wait in seconds after a step for its deliveries")
        ("in-flight", po::value(&o.in_flight)->default_value(o.in_flight), "connections between connect and Joined at once")
        ("room-list", po::bool_switch(&o.room_list), "ask for the room list in every Welcome, as a first visit does (default: Hello sets omit_rooms, as a reconnecting client does)")
        ("local-addrs", po::value(&o.local_addresses)->default_value(o.local_addresses), "bind clients across 127.0.0.1..127.0.0.N")
        ("batch-us", po::value(&o.batch_us)->default_value(o.batch_us), "minimum microseconds between epoll waits: more frames per read, less generator CPU, up to this much added latency")
        ("payload", po::value(&o.payload_bytes)->default_value(o.payload_bytes), "post text length in bytes")
        ("settle-ms", po::value(&o.settle_ms)->default_value(o.settle_ms), "quiet milliseconds required after setup before measuring")
        ("setup-timeout", po::value(&o.setup_timeout_s)->default_value(o.setup_timeout_s), "seconds allowed for connecting and joining")
        ("min-delivered", po::value(&o.min_delivered)->default_value(o.min_delivered), "pass criterion: delivered ratio")
        ("max-p99-ms", po::value(&o.max_p99_ms)->default_value(o.max_p99_ms), "pass criterion: p99 latency")
        ("stop-on-fail", po::bool_switch(&o.stop_on_fail), "stop after the first step that fails the criteria (rate search)")
        ("check", po::bool_switch(&o.check), "exit 1 unless every step passes and nothing went wrong")
        ("json", po::value(&o.json_path), "write the run as one JSON object to this file ('-' = stdout)")
        ("quiet,q", po::bool_switch(&o.quiet), "no human-readable summary");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, d), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        usage_error(e.what());
    }
    if (vm.count("help")) {
        std::cout << d << "\n";
        std::exit(0);
    }
    if (mode == "broadcast")
        o.mode = Mode::broadcast;
    else if (mode == "rooms")
        o.mode = Mode::rooms;
    else if (mode == "idle")
        o.mode = Mode::idle;
    else if (mode == "storm")
        o.mode = Mode::storm;
    else
        usage_error("unknown mode '" + mode + "'");

    for (int pid : pids) o.server_pids.push_back(static_cast<pid_t>(pid));
    if (vm.count("rate")) {
        if (!(rate > 0)) usage_error("--rate must be positive");
        o.rates.push_back(rate);
    }
    if (!rate_list.empty()) {
        for (double r : parse_rate_list(rate_list)) o.rates.push_back(r);
    }
    if (!ramp.empty()) {
        for (double r : parse_ramp(ramp)) o.rates.push_back(r);
    }
    const bool posting = o.mode == Mode::broadcast || o.mode == Mode::rooms;
    if (posting && o.rates.empty()) usage_error("this mode needs --rate, --rates or --ramp");
    if (!posting && !o.rates.empty()) usage_error("idle and storm modes do not post");
    if (o.connections == 0) usage_error("--connections must be at least 1");
    if (!o.spawn_server.empty() && !o.servers.empty())
        usage_error("--spawn-server and --server exclude each other");
    if (o.spawn_server.empty() && o.servers.empty()) o.servers.push_back("127.0.0.1:8080");
    if (o.mode == Mode::broadcast) {
        o.rooms = 1;
        if (o.publishers == 0) {
            double highest = 0;
            for (double r : o.rates) highest = std::max(highest, r);
            // Each session may post at most limits.posts_per_second (at most 1000): spread.
            o.publishers = std::max(1u, static_cast<unsigned>(std::ceil(highest / 800.0)));
        }
    } else if (o.rooms == 0) {
        o.rooms = std::max(1u, (o.connections + 19) / 20);
    }
    if (o.local_addresses == 0 || o.local_addresses > 254)
        usage_error("--local-addrs must be 1..254");
    if (o.in_flight == 0) usage_error("--in-flight must be at least 1");
    if (!(o.duration_s > 0)) usage_error("--duration must be positive");
    if (o.batch_us > 100'000) usage_error("--batch-us must be at most 100000");
    return o;
}

}  // namespace haven::load
