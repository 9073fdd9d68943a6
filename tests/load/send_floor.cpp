// haven-send-floor: what one write per delivery costs on this machine, measured the way the
// benchmark's fan-out workloads write. A sender writes a frame-sized message to N loopback TCP
// connections (one write each, TCP_NODELAY, non-blocking), in rounds at a fixed rate; a reader
// process on another CPU drains them with epoll. The sender's CPU time per write is the floor
// for a server that makes one write per delivery: the kernel's TCP work (on loopback including
// most of the receiver's) is nearly all of it, and no server can do less per write.
//
//   haven-send-floor --connections 1000 --rate 100 --per-round 0 --seconds 5 --json FILE
//
// --per-round 0 writes to every connection each round (W1's shape: one post to 1,000); a count
// writes to that many connections in turn (W2's shape: 2,000 posts/s, each to 20).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "clock.hpp"

namespace {

using haven::load::now_ns;

struct Options {
    unsigned connections = 1000;
    double rate = 100;       // rounds per second
    unsigned per_round = 0;  // writes per round (0: every connection)
    double seconds = 5;
    unsigned bytes = 210;  // a 200-byte post's event frame, roughly
    int sender_cpu = 0;
    int reader_cpu = 1;
    std::string label = "floor";
    std::string json_path;
};

void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(2);
}

// The reader: connects every client socket, then drains whatever arrives until `until_ns`.
[[noreturn]] void run_reader(const Options& o, const sockaddr_in& address, std::int64_t until_ns) {
    pin(o.reader_cpu);
    const int poller = epoll_create1(0);
    for (unsigned i = 0; i < o.connections; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
            die("reader connect");
        fcntl(fd, F_SETFL, O_NONBLOCK);
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        epoll_ctl(poller, EPOLL_CTL_ADD, fd, &event);
    }
    std::vector<char> buffer(1 << 16);
    epoll_event events[512];
    while (now_ns() < until_ns) {
        const int ready = epoll_wait(poller, events, 512, 100);
        for (int i = 0; i < ready; ++i) {
            while (read(events[i].data.fd, buffer.data(), buffer.size()) > 0) {
            }
        }
    }
    _exit(0);
}

double cpu_us(const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
    namespace po = boost::program_options;
    Options o;
    po::options_description d(
        "haven-send-floor: CPU per write of one message to one of N loopback TCP "
        "connections\n\noptions");
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("connections,n", po::value(&o.connections)->default_value(o.connections), "loopback TCP connections")
        ("rate", po::value(&o.rate)->default_value(o.rate), "rounds per second")
        ("per-round", po::value(&o.per_round)->default_value(o.per_round), "writes per round (0: one to every connection)")
        ("seconds", po::value(&o.seconds)->default_value(o.seconds), "measured time")
        ("bytes", po::value(&o.bytes)->default_value(o.bytes), "bytes per write")
        ("sender-cpu", po::value(&o.sender_cpu)->default_value(o.sender_cpu), "CPU for the sender (-1: any)")
        ("reader-cpu", po::value(&o.reader_cpu)->default_value(o.reader_cpu), "CPU for the reader (-1: any)")
        ("label", po::value(&o.label)->default_value(o.label), "name in the report")
        ("json", po::value(&o.json_path), "append the result as one JSON line to this file");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, d), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "haven-send-floor: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << d << "\n";
        return 0;
    }
    if (o.connections == 0 || !(o.rate > 0) || !(o.seconds > 0) || o.bytes == 0) {
        std::cerr << "haven-send-floor: connections, rate, seconds and bytes must be positive\n";
        return 2;
    }
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);

    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 ||
        bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener, 4096) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        die("listen");

    // The reader stops by itself: setup, the measured time, and a margin.
    const std::int64_t reader_until = now_ns() + static_cast<std::int64_t>((o.seconds + 30) * 1e9);
    const pid_t reader = fork();
    if (reader < 0) die("fork");
    if (reader == 0) run_reader(o, address, reader_until);

    pin(o.sender_cpu);
    std::vector<int> sockets;
    sockets.reserve(o.connections);
    const int one = 1;
    for (unsigned i = 0; i < o.connections; ++i) {
        const int fd = accept(listener, nullptr, nullptr);
        if (fd < 0) die("accept");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        sockets.push_back(fd);
    }
    usleep(300'000);  // let the connections settle

    const std::string message(o.bytes, 'x');
    const unsigned per_round = o.per_round == 0 ? o.connections : o.per_round;
    const auto rounds = static_cast<std::uint64_t>(o.rate * o.seconds);
    std::uint64_t writes = 0;
    std::uint64_t refused = 0;
    std::size_t next = 0;
    rusage before{};
    rusage after{};
    getrusage(RUSAGE_SELF, &before);
    const std::int64_t start = now_ns();
    for (std::uint64_t round = 0; round < rounds; ++round) {
        // One sleep per round, until the round is due: a server waits for work the same way.
        const std::int64_t due =
            start + static_cast<std::int64_t>(static_cast<double>(round) * 1e9 / o.rate);
        const timespec wake{static_cast<time_t>(due / 1'000'000'000),
                            static_cast<long>(due % 1'000'000'000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr) == EINTR) {
        }
        for (unsigned i = 0; i < per_round; ++i) {
            const int fd = sockets[next];
            next = (next + 1) % sockets.size();
            if (send(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
                ++writes;
            } else {
                ++refused;
            }
        }
    }
    getrusage(RUSAGE_SELF, &after);
    const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    for (int fd : sockets) close(fd);
    kill(reader, SIGTERM);
    waitpid(reader, nullptr, 0);

    const double user = cpu_us(after.ru_utime) - cpu_us(before.ru_utime);
    const double sys = cpu_us(after.ru_stime) - cpu_us(before.ru_stime);
    const double per_write = writes == 0 ? 0 : (user + sys) / static_cast<double>(writes);
    std::printf(
        "haven-send-floor %s: %llu writes of %u bytes to %u connections in %.1f s: "
        "%.2f us of CPU per write (user %.2f, system %.2f)%s\n",
        o.label.c_str(), static_cast<unsigned long long>(writes), o.bytes, o.connections, elapsed,
        per_write, writes ? user / static_cast<double>(writes) : 0.0,
        writes ? sys / static_cast<double>(writes) : 0.0,
        refused ? " (some writes found a full socket buffer)" : "");
    if (!o.json_path.empty()) {
        std::ofstream out(o.json_path, std::ios::app);
        char line[512];
        std::snprintf(line, sizeof line,
                      "{\"label\":\"%s\",\"mode\":\"floor\",\"params\":{\"clients\":%u,\"rate\":%g,"
                      "\"per_round\":%u,\"bytes\":%u,\"seconds\":%g},\"floor\":{\"writes\":%llu,"
                      "\"refused\":%llu,\"us_per_write\":%.4f,\"user_us_per_write\":%.4f,"
                      "\"sys_us_per_write\":%.4f}}\n",
                      o.label.c_str(), o.connections, o.rate, per_round, o.bytes, o.seconds,
                      static_cast<unsigned long long>(writes),
                      static_cast<unsigned long long>(refused), per_write,
                      writes ? user / static_cast<double>(writes) : 0.0,
                      writes ? sys / static_cast<double>(writes) : 0.0);
        out << line;
    }
    return writes > 0 ? 0 : 1;
}
