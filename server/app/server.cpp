#include "app/server.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/chat_engine.hpp"
#include "app/startup_checks.hpp"
#include "auth/guest_pass.hpp"
#include "auth/handle_policy.hpp"
#include "auth/jwt.hpp"
#include "broker/memory_broker.hpp"
#include "broker/redis/redis_broker.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/shard_pool.hpp"
#include "http/admin_api.hpp"
#include "http/alert_webhook.hpp"
#include "http/http_routes.hpp"
#include "moderation/audit_file.hpp"
#include "moderation/crisis_detector.hpp"
#include "moderation/moderation_state.hpp"
#include "net/listener.hpp"
#include "rooms/alert_ladder.hpp"
#include "rooms/room_directory.hpp"
#include "rooms/runtime_rooms.hpp"

namespace haven::app {
namespace {

namespace asio = boost::asio;

constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr auto kCloseGrace = std::chrono::seconds(2);
constexpr auto kBrokerShutdownGrace = std::chrono::seconds(2);
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

}  // namespace

struct Server::Parts {
    explicit Parts(config::Config cfg)
        : config(std::move(cfg)),
          resources(load_startup_resources(config)),
          shards(shard_count(config)),
          metrics(shards),
          directory(config.rooms, shards),
          tokens(auth::JwtVerifierOptions{config.auth.jwt_hs256_secret, config.auth.jwt_issuer, 30,
                                          resources.jwt_public_key, config.auth.jwt_audience}),
          guest_passes(config.auth.guest_secret.empty() ? auth::random_secret()
                                                        : config.auth.guest_secret),
          crisis(std::move(resources.crisis)),
          handles(config.auth.reserved_handles),
          addresses(config.limits),
          addressing{addresses, net::TrustedProxies(config.server.trusted_proxies),
                     guest_passes.derived_key(net::kAddressKeyPurpose)},
          context{config,       directory, tokens,    guest_passes, metrics, random_instance_id(),
                  crisis.get(), &handles,  &addresses},
          routes(
              config, directory, metrics, [this] { return unready_reason(); },
              std::move(resources.static_files)),
          admin(tokens, admin_backend()),
          tls(std::move(resources.tls)),
          pool(shards) {
        for (const std::string& warning : resources.warnings) spdlog::warn("{}", warning);
    }

    config::Config config;
    // What the configuration names outside itself; the parts below take what they own.
    StartupResources resources;
    unsigned shards;
    core::Metrics metrics;
    rooms::RoomDirectory directory;
    auth::JwtVerifier tokens;
    auth::GuestPasses guest_passes;
    std::unique_ptr<moderation::CrisisDetector> crisis;
    auth::HandlePolicy handles;
    core::AddressLimits addresses;  // every shard's connections, by client address
    net::Addressing addressing;
    broker::UserRateLimiter user_limits;  // shared by every shard's memory broker
    core::ServerContext context;
    http::HttpRoutes routes;
    http::AdminApi admin;
    std::unique_ptr<asio::ssl::context> tls;
    // Before the engine, which calls it; reset first in ~Server, as it calls back.
    std::unique_ptr<http::AlertWebhook> webhook;
    std::unique_ptr<app::ChatEngine> engine;
    std::vector<std::unique_ptr<net::WriteBatcher>> batchers;
    std::vector<std::unique_ptr<net::NetContext>> net_contexts;
    // Declared after the engine so it is destroyed first: destroying an io_context destroys
    // the sessions it still holds, and they leave their Hub as they go.
    core::ShardPool pool;
    std::vector<std::shared_ptr<net::Listener>> listeners;
    std::vector<std::unique_ptr<asio::steady_timer>> sweep_timers;
    std::unique_ptr<asio::signal_set> signals;
    std::unique_ptr<asio::steady_timer> shutdown_timer;
    core::SteadyTime shutdown_deadline{};
    std::atomic<unsigned> brokers_shut_down{0};

    // What the admin API does, each on the shard that owns it: server-wide state on shard 0,
    // a room's presence on the room's owner shard.
    http::AdminBackend admin_backend() {
        http::AdminBackend backend;
        backend.read_audit = [this](std::string room_id, std::string before_id, std::uint32_t limit,
                                    std::function<void(std::optional<v1::AuditPage>)> done) {
            pool.post(0, [this, room_id = std::move(room_id), before_id = std::move(before_id),
                          limit, done = std::move(done)]() mutable {
                engine->owner(0).broker().read_audit(std::move(room_id), std::move(before_id),
                                                     limit, std::move(done));
            });
        };
        backend.banned = [this](std::string subject, std::function<void(bool)> done) {
            pool.post(0, [this, subject = std::move(subject), done = std::move(done)] {
                done(engine->hub(0).globally_banned(subject));
            });
        };
        backend.presence = [this](std::string room_id, http::AdminBackend::PresenceDone done) {
            const unsigned shard = directory.owner_shard(room_id);
            pool.post(shard, [this, shard, room_id = std::move(room_id),
                              done = std::move(done)]() mutable {
                engine->owner(shard).broker().read_presence(
                    room_id,
                    [done = std::move(done)](std::optional<broker::PresenceSnapshot> snapshot) {
                        if (!snapshot) return done(std::nullopt);
                        done(std::move(snapshot->members));
                    });
            });
        };
        backend.disconnect = [this](std::string subject, std::function<void(bool)> done) {
            pool.post(0, [this, subject = std::move(subject), done = std::move(done)]() mutable {
                auto event = std::make_shared<v1::Event>();
                event->mutable_sessions_ended()->set_subject(subject);
                engine->owner(0).broker().publish_global(
                    std::move(event), moderation::StateChange{}, std::move(done));
            });
        };
        backend.append_audit = [this](v1::AuditEntry entry) {
            pool.post(0, [this, entry = std::move(entry)]() mutable {
                engine->owner(0).broker().append_audit(std::move(entry));
            });
        };
        backend.publish = [this](std::shared_ptr<v1::Event> event,
                                 http::AdminBackend::SeqDone done) {
            const unsigned shard = directory.owner_shard(event->room_id());
            pool.post(shard, [this, shard, event = std::move(event), done = std::move(done)] {
                engine->owner(shard).broker().publish_with_state(
                    std::make_unique<v1::Event>(*event), moderation::StateChange{},
                    [done](broker::PublishOutcome outcome) {
                        if (outcome.status != broker::PublishOutcome::Status::published) {
                            return done(std::nullopt);
                        }
                        done(outcome.seq);
                    });
            });
        };
        backend.history =
            [this](std::string room_id, std::uint64_t before_seq, std::uint32_t limit,
                   std::function<void(std::optional<http::AdminBackend::HistoryView>)> done) {
                const unsigned shard = directory.owner_shard(room_id);
                pool.post(shard, [this, shard, room_id = std::move(room_id), before_seq, limit,
                                  done = std::move(done)]() mutable {
                    read_moderator_history(engine->owner(shard).broker(), std::move(room_id),
                                           before_seq, limit, std::move(done));
                });
            };
        backend.instances = [this](auto done) {
            pool.post(0, [this, done = std::move(done)]() mutable {
                if (redis_zero == nullptr) {
                    return done(std::vector<v1::InstanceInfo>{instance_report()});
                }
                redis_zero->read_instances(std::move(done));
            });
        };
        backend.open_room = [this](v1::RuntimeRoom room, http::AdminBackend::RoomChangeDone done) {
            pool.post(0, [this, room = std::move(room), done = std::move(done)]() mutable {
                open_runtime_room(std::move(room), std::move(done));
            });
        };
        backend.close_room = [this](std::string room_id, http::AdminBackend::RoomChangeDone done) {
            pool.post(0, [this, room_id = std::move(room_id), done = std::move(done)]() mutable {
                close_runtime_room(std::move(room_id), std::move(done));
            });
        };
        backend.templates = &config.room_templates;
        backend.max_notice_chars = config.limits.max_post_chars;
        backend.max_batch_calls = config.limits.admin_batch_calls;
        backend.directory = &directory;
        return backend;
    }

    // The room's events with its moderation state, so hidden posts can be named.
    static void read_moderator_history(
        broker::Broker& broker, std::string room_id, std::uint64_t before_seq, std::uint32_t limit,
        std::function<void(std::optional<http::AdminBackend::HistoryView>)> done) {
        broker::HistoryQuery query;
        query.room_id = room_id;
        query.before_seq = before_seq;
        query.limit = limit;
        broker.read_history(
            query, [&broker, room_id, done = std::move(done)](broker::HistorySlice slice) mutable {
                if (!slice.ok) return done(std::nullopt);
                broker.read_state(room_id, [slice = std::move(slice), done = std::move(done)](
                                               std::optional<moderation::StateFields> state) {
                    if (!state) return done(std::nullopt);
                    http::AdminBackend::HistoryView view;
                    for (const broker::EventPtr& event : slice.events) {
                        view.events.push_back(*event);
                        if (event->has_posted() &&
                            state->count(moderation::hidden_field(event->seq()))) {
                            view.hidden.push_back(event->seq());
                        }
                    }
                    view.oldest_seq = slice.oldest_seq;
                    view.last_seq = slice.last_seq;
                    view.has_more = slice.has_more;
                    done(std::move(view));
                });
            });
    }

    // On shard 0. The field is created only when absent, so of two instances opening the same
    // id at once one does; the event then opens it everywhere, and here at once so the caller
    // can join straight away.
    void open_runtime_room(v1::RuntimeRoom room, http::AdminBackend::RoomChangeDone done) {
        using Change = http::AdminBackend::RoomChange;
        if (directory.runtime_count() >= config.limits.max_runtime_rooms) {
            return done(Change::too_many);
        }
        auto config_of_room = rooms::room_config(room);
        if (!config_of_room || directory.find(room.id()) != nullptr) return done(Change::taken);
        auto event = std::make_shared<v1::Event>();
        *event->mutable_room_opened()->mutable_room() = room;
        broker::Broker& zero = engine->owner(0).broker();
        zero.publish_global(
            std::move(event),
            moderation::StateChange::create(rooms::runtime_room_field(room.id()),
                                            room.SerializeAsString()),
            [this, config_of_room = std::move(*config_of_room), done](bool ok) mutable {
                if (!ok) return done(Change::unavailable);
                directory.open(std::move(config_of_room));
                done(Change::done);
            });
    }

    void close_runtime_room(std::string room_id, http::AdminBackend::RoomChangeDone done) {
        using Change = http::AdminBackend::RoomChange;
        if (!directory.is_runtime(room_id)) return done(Change::not_found);
        auto event = std::make_shared<v1::Event>();
        event->mutable_room_closed()->set_room_id(room_id);
        engine->owner(0).broker().publish_global(
            std::move(event), moderation::StateChange::erase(rooms::runtime_room_field(room_id)),
            [done](bool ok) { done(ok ? Change::done : Change::unavailable); });
    }

    // What this instance says of itself: the admin API's info, and its heartbeat on Redis.
    v1::InstanceInfo instance_report() const {
        v1::InstanceInfo info;
        info.set_instance_id(context.instance_id);
        info.set_version(HAVEN_VERSION);
        info.set_state(unready_reason().value_or("ready"));
        info.set_connections(open_connections());
        info.set_started_ms(started_ms);
        info.set_reported_ms(core::wall_ms());
        return info;
    }

    std::optional<std::string> unready_reason() const {
        if (metrics.draining.load()) return "draining";
        for (unsigned shard = 0; shard < shards; ++shard) {
            if (!engine->owner(shard).broker().healthy()) return "broker unavailable";
        }
        return std::nullopt;
    }

    std::unique_ptr<broker::Broker> make_broker(unsigned shard, broker::BrokerSink& sink) {
        if (config.broker.kind == "memory") {
            // Shard 0 keeps the server-wide state, the audit log among it.
            auto audit = shard == 0
                             ? std::make_unique<moderation::AuditFile>(config.moderation.audit_file)
                             : nullptr;
            const broker::RoleMemory roles{
                std::uint64_t{config.moderation.role_memory_days} * 24 * 3600 * 1000,
                config.moderation.max_known_roles};
            return std::make_unique<broker::MemoryBroker>(
                config.history, sink, [] { return core::wall_ms(); }, std::move(audit),
                &user_limits, roles);
        }
        auto endpoint = broker::redis::parse_redis_url(config.broker.redis_url);
        if (!endpoint) throw std::runtime_error("broker.redis_url: cannot parse it");
        broker::redis::RedisBrokerOptions options;
        options.endpoint = *endpoint;
        options.key_prefix = config.broker.key_prefix;
        options.instance_id = context.instance_id;
        options.retention = config.history;
        options.keeps_instance_alive = shard == 0;
        options.instance_timeout = std::chrono::seconds(config.broker.presence_timeout_seconds);
        options.heartbeat_interval = options.instance_timeout / 3;
        options.role_memory = std::chrono::hours(24 * config.moderation.role_memory_days);
        if (shard == 0) options.report = [this] { return instance_report(); };
        auto broker = std::make_unique<broker::redis::RedisBroker>(
            pool.context(shard), std::move(options), sink, metrics.shard(shard));
        redis_brokers.push_back(broker.get());
        if (shard == 0) redis_zero = broker.get();
        return broker;
    }
    std::vector<broker::redis::RedisBroker*> redis_brokers;
    broker::redis::RedisBroker* redis_zero = nullptr;  // shard 0's: the cluster's instances
    const std::uint64_t started_ms = core::wall_ms();

    void sweep(unsigned shard) {
        auto& timer = *sweep_timers[shard];
        // Often enough to ping at half the idle timeout and drop at the whole.
        const auto interval = std::clamp<std::chrono::milliseconds>(
            std::chrono::milliseconds(config.limits.idle_timeout_ms / 4),
            std::chrono::milliseconds(50), kSweepInterval);
        timer.expires_after(interval);
        timer.async_wait([this, shard](boost::system::error_code ec) {
            if (ec) return;
            engine->sweep(shard, core::steady_now());
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

    // SIGHUP's default action would end the process at once, without draining: a terminal
    // closing, or a reflexive `kill -HUP` meant to reload, must not drop everyone's
    // conversation. The configuration is read only at start, so the signal is acknowledged and
    // otherwise ignored. Once shutdown has begun nothing waits any more, but the set still
    // holds the signals, so further ones are absorbed.
    void wait_for_signal() {
        signals->async_wait([this](boost::system::error_code ec, int signal_number) {
            if (ec) return;
            if (signal_number != SIGHUP) return begin_shutdown(signal_number);
            spdlog::warn(
                "SIGHUP ignored: the configuration is read only at start; restart the server "
                "(SIGTERM drains) to apply changes");
            wait_for_signal();
        });
    }

    // SIGTERM drains: readiness fails, nothing new is accepted, clients are asked to
    // reconnect elsewhere, and whoever is still here after the grace period is closed.
    // SIGINT (an operator at a terminal) skips the grace period.
    void begin_shutdown(int signal_number) {
        const bool drain = signal_number == SIGTERM && config.server.drain_grace_ms > 0;
        spdlog::info("signal {}: {}", signal_number, drain ? "draining" : "closing connections");
        metrics.draining = true;
        const std::uint32_t spread = config.server.drain_grace_ms / 2;
        for (unsigned i = 0; i < shards; ++i) {
            pool.post(i, [this, i, drain, spread] {
                listeners[i]->stop();
                if (drain) {
                    engine->hub(i).ask_to_reconnect(spread);
                } else {
                    engine->hub(i).close_all(protocol::CloseCode::going_away);
                }
            });
        }
        shutdown_timer = std::make_unique<asio::steady_timer>(pool.context(0));
        if (!drain) return wait_for_sessions(core::steady_now() + kCloseGrace);
        shutdown_timer->expires_after(std::chrono::milliseconds(config.server.drain_grace_ms));
        shutdown_timer->async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            for (unsigned i = 0; i < shards; ++i) {
                pool.post(i,
                          [this, i] { engine->hub(i).close_all(protocol::CloseCode::going_away); });
            }
            wait_for_sessions(core::steady_now() + kCloseGrace);
        });
    }

    void wait_for_sessions(core::SteadyTime deadline) {
        shutdown_timer->expires_after(kShutdownPoll);
        shutdown_timer->async_wait([this, deadline](boost::system::error_code ec) {
            if (ec) return;
            if (open_connections() == 0 || core::steady_now() >= deadline) return shut_brokers();
            wait_for_sessions(deadline);
        });
    }

    void shut_brokers() {
        for (unsigned i = 0; i < shards; ++i) {
            pool.post(i, [this, i] {
                sweep_timers[i]->cancel();
                engine->owner(i).broker().shutdown([this] { ++brokers_shut_down; });
            });
        }
        wait_for_brokers(core::steady_now() + kBrokerShutdownGrace);
    }

    void wait_for_brokers(core::SteadyTime deadline) {
        shutdown_timer->expires_after(kShutdownPoll);
        shutdown_timer->async_wait([this, deadline](boost::system::error_code ec) {
            if (ec) return;
            if (brokers_shut_down.load() == shards || core::steady_now() >= deadline) {
                return pool.stop();
            }
            wait_for_brokers(deadline);
        });
    }
};

Server::Server(config::Config config) : parts_(std::make_unique<Parts>(std::move(config))) {
    Parts& p = *parts_;
    // Before anything else touches shared state (the audit file, Redis): a second instance on
    // the same port must stop without a trace.
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(p.config.server.address),
                                           p.config.server.port);
    const std::string where = p.config.server.address + ":" + std::to_string(p.config.server.port);
    try {
        net::check_port_unclaimed(endpoint);
    } catch (const boost::system::system_error& error) {
        const bool taken = error.code() == boost::asio::error::address_in_use;
        throw std::runtime_error(
            "server.address/server.port: cannot listen on " + where + ": " +
            (taken ? std::string("already served by another process") : error.code().message()));
    }
    p.engine = std::make_unique<app::ChatEngine>(
        p.context, p.pool,
        [&p](unsigned shard, broker::BrokerSink& sink) { return p.make_broker(shard, sink); });
    if (!p.config.safety.webhook_url.empty()) {
        p.webhook = std::make_unique<http::AlertWebhook>(p.config.safety, p.metrics);
        p.engine->server_wide().set_alert_webhook(
            [webhook = p.webhook.get()](std::string json, rooms::ServerWide::Delivered done) {
                webhook->send(std::move(json), std::move(done));
            },
            rooms::webhook_hold_ms(p.config.safety.webhook_attempts,
                                   p.config.safety.webhook_timeout_ms));
    }
    for (unsigned i = 0; i < p.shards; ++i) {
        p.batchers.push_back(std::make_unique<net::WriteBatcher>(p.pool.context(i)));
        p.net_contexts.push_back(
            std::make_unique<net::NetContext>(net::NetContext{p.engine->services(i),
                                                              p.metrics.shard(i),
                                                              p.routes,
                                                              p.admin,
                                                              p.config,
                                                              p.tls.get(),
                                                              *p.batchers[i],
                                                              p.addressing,
                                                              {}}));
        try {
            p.listeners.push_back(
                std::make_shared<net::Listener>(p.pool.context(i), endpoint, *p.net_contexts[i]));
        } catch (const boost::system::system_error& error) {
            throw std::runtime_error("server.address/server.port: cannot listen on " + where +
                                     ": " + error.code().message());
        }
        p.sweep_timers.push_back(std::make_unique<asio::steady_timer>(p.pool.context(i)));
    }
}

Server::~Server() {
    // Destroy the sessions (held by the io_contexts) while the Hubs they leave still exist.
    if (parts_) {
        // Its thread tells shard 0 what the receiver said: it stops before the shards go.
        parts_->webhook.reset();
        parts_->engine->stop_routing();
        // Brokers hold timers and sockets of the shards' event loops: they must go before
        // the loops do.
        parts_->engine->release_brokers();
        for (auto& batcher : parts_->batchers) batcher->drop_pending();
        parts_->listeners.clear();
        parts_->sweep_timers.clear();
        parts_->signals.reset();
        parts_->shutdown_timer.reset();
    }
}

void Server::run() {
    Parts& p = *parts_;
    for (auto* broker : p.redis_brokers) broker->start();
    p.pool.post(0, [&p] {
        p.engine->server_wide().load_global_bans();
        p.engine->server_wide().load_open_queue();
    });
    for (unsigned i = 0; i < p.shards; ++i) {
        p.listeners[i]->start();
        p.sweep(i);
    }
    p.signals = std::make_unique<asio::signal_set>(p.pool.context(0), SIGINT, SIGTERM, SIGHUP);
    p.wait_for_signal();
    spdlog::info("haven listening on {}://{}:{} ({} shards, broker {}, guests {})",
                 p.tls ? "https" : "http", p.config.server.address, p.config.server.port, p.shards,
                 p.config.broker.kind, p.config.auth.guest_enabled ? "on" : "off");
    p.pool.run();
    spdlog::info("haven stopped");
}

}  // namespace haven::app
