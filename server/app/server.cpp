#include "app/server.hpp"

#include <random>
#include <stdexcept>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "auth/guest_pass.hpp"
#include "auth/jwt.hpp"
#include "broker/memory_broker.hpp"
#include "core/metrics.hpp"
#include "core/shard_pool.hpp"
#include "http/http_routes.hpp"
#include "net/listener.hpp"
#include "rooms/hub.hpp"
#include "rooms/room_directory.hpp"

namespace haven::app {
namespace {

namespace asio = boost::asio;

constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr auto kShutdownGrace = std::chrono::seconds(3);
constexpr auto kShutdownPoll = std::chrono::milliseconds(20);

unsigned shard_count(const config::Config& config) {
    if (config.server.shards != 0) return config.server.shards;
    return std::max(1u, std::thread::hardware_concurrency());
}

std::string random_instance_id() {
    std::random_device device;
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%06x", device() & 0xffffffu);
    return buffer;
}

std::unique_ptr<asio::ssl::context> make_tls_context(const config::TlsConfig& tls) {
    if (!tls.enabled()) return nullptr;
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    context->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) throw std::runtime_error("tls.cert: cannot use " + tls.cert_file + ": " + ec.message());
    context->use_private_key_file(tls.key_file, asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("tls.key: cannot use " + tls.key_file + ": " + ec.message());
    return context;
}

}  // namespace

struct Server::Parts {
    explicit Parts(config::Config cfg)
        : config(std::move(cfg)),
          shards(shard_count(config)),
          metrics(shards),
          directory(config.rooms, shards),
          tokens(auth::JwtVerifierOptions{config.auth.jwt_hs256_secret, config.auth.jwt_issuer,
                                          30}),
          guest_passes(config.auth.guest_secret.empty() ? auth::random_secret()
                                                        : config.auth.guest_secret),
          context{config, directory, tokens, guest_passes, metrics, random_instance_id()},
          routes(config, directory, metrics, draining),
          tls(make_tls_context(config.tls)),
          pool(shards) {}

    config::Config config;
    unsigned shards;
    core::Metrics metrics;
    rooms::RoomDirectory directory;
    auth::JwtVerifier tokens;
    auth::GuestPasses guest_passes;
    session::ServerContext context;
    std::atomic<bool> draining{false};
    http::HttpRoutes routes;
    std::unique_ptr<asio::ssl::context> tls;
    std::vector<std::unique_ptr<rooms::Hub>> hubs;
    std::vector<std::unique_ptr<net::NetContext>> net_contexts;
    // Declared after the Hubs so it is destroyed first: destroying an io_context destroys
    // the sessions it still holds, and they leave their Hub as they go.
    core::ShardPool pool;
    std::vector<std::shared_ptr<net::Listener>> listeners;
    std::vector<std::unique_ptr<asio::steady_timer>> sweep_timers;
    std::unique_ptr<asio::signal_set> signals;
    std::unique_ptr<asio::steady_timer> shutdown_timer;
    core::SteadyTime shutdown_deadline{};

    void sweep(unsigned shard) {
        auto& timer = *sweep_timers[shard];
        timer.expires_after(kSweepInterval);
        timer.async_wait([this, shard](boost::system::error_code ec) {
            if (ec) return;
            hubs[shard]->sweep(core::steady_now());
            sweep(shard);
        });
    }

    std::uint64_t open_connections() const {
        std::uint64_t open = 0;
        for (unsigned i = 0; i < shards; ++i) {
            auto& counters = const_cast<core::Metrics&>(metrics).shard(i);
            open += counters.connections_opened.load() - counters.connections_closed.load();
        }
        return open;
    }

    void begin_shutdown(int signal_number) {
        spdlog::info("signal {}: closing connections", signal_number);
        draining = true;
        for (unsigned i = 0; i < shards; ++i) {
            pool.post(i, [this, i] {
                listeners[i]->stop();
                sweep_timers[i]->cancel();
                hubs[i]->close_all(protocol::CloseCode::going_away);
            });
        }
        shutdown_deadline = core::steady_now() + kShutdownGrace;
        shutdown_timer = std::make_unique<asio::steady_timer>(pool.context(0));
        wait_for_sessions();
    }

    void wait_for_sessions() {
        shutdown_timer->expires_after(kShutdownPoll);
        shutdown_timer->async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            if (open_connections() == 0 || core::steady_now() >= shutdown_deadline) {
                pool.stop();
                return;
            }
            wait_for_sessions();
        });
    }
};

Server::Server(config::Config config) : parts_(std::make_unique<Parts>(std::move(config))) {
    Parts& p = *parts_;
    std::vector<rooms::Hub*> hub_pointers;
    for (unsigned i = 0; i < p.shards; ++i) {
        p.hubs.push_back(std::make_unique<rooms::Hub>(i, p.context, p.pool));
        hub_pointers.push_back(p.hubs.back().get());
    }
    for (auto& hub : p.hubs) {
        hub->connect(hub_pointers, std::make_unique<broker::MemoryBroker>(
                                       p.config.history, *hub, [] { return core::wall_ms(); }));
    }
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(p.config.server.address),
                                           p.config.server.port);
    for (unsigned i = 0; i < p.shards; ++i) {
        p.net_contexts.push_back(std::make_unique<net::NetContext>(
            net::NetContext{*p.hubs[i], p.routes, p.config, p.tls.get()}));
        try {
            p.listeners.push_back(
                std::make_shared<net::Listener>(p.pool.context(i), endpoint, *p.net_contexts[i]));
        } catch (const boost::system::system_error& error) {
            throw std::runtime_error("server.address/server.port: cannot listen on " +
                                     p.config.server.address + ":" +
                                     std::to_string(p.config.server.port) + ": " +
                                     error.code().message());
        }
        p.sweep_timers.push_back(std::make_unique<asio::steady_timer>(p.pool.context(i)));
    }
}

Server::~Server() {
    // Destroy the sessions (held by the io_contexts) while the Hubs they leave still exist.
    if (parts_) {
        for (auto& hub : parts_->hubs) hub->stop_routing();
        parts_->listeners.clear();
        parts_->sweep_timers.clear();
        parts_->signals.reset();
        parts_->shutdown_timer.reset();
    }
}

void Server::run() {
    Parts& p = *parts_;
    for (unsigned i = 0; i < p.shards; ++i) {
        p.listeners[i]->start();
        p.sweep(i);
    }
    p.signals = std::make_unique<asio::signal_set>(p.pool.context(0), SIGINT, SIGTERM);
    p.signals->async_wait([&p](boost::system::error_code ec, int signal_number) {
        if (!ec) p.begin_shutdown(signal_number);
    });
    spdlog::info("haven listening on {}://{}:{} ({} shards, broker {}, guests {})",
                 p.tls ? "https" : "http", p.config.server.address, p.config.server.port,
                 p.shards, p.config.broker.kind, p.config.auth.guest_enabled ? "on" : "off");
    p.pool.run();
    spdlog::info("haven stopped");
}

}  // namespace haven::app
