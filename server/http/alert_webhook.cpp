#include "http/alert_webhook.hpp"

#include <chrono>
#include <utility>

#include <spdlog/spdlog.h>

#include "auth/hs256.hpp"
#include "http/outbound_http.hpp"
#include "rooms/alert_ladder.hpp"

namespace haven::http {
namespace {

std::string hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        out += kDigits[byte >> 4];
        out += kDigits[byte & 15];
    }
    return out;
}

}  // namespace

AlertWebhook::AlertWebhook(config::SafetyConfig config, core::Metrics& metrics)
    : config_(std::move(config)),
      metrics_(metrics),
      worker_([this](std::stop_token stop) { run(stop); }) {}

AlertWebhook::~AlertWebhook() {
    worker_.request_stop();
    worker_.join();
    metrics_.alerts.webhook_failures.fetch_add(queue_.size());
}

bool AlertWebhook::send(std::string json, Delivered done) {
    {
        const std::lock_guard lock(mutex_);
        if (queue_.size() >= config_.webhook_queue) {
            metrics_.alerts.webhook_failures.fetch_add(1);
            spdlog::warn("alert webhook: queue full ({} waiting), an alert was dropped",
                         queue_.size());
            return false;
        }
        queue_.emplace_back(std::move(json), std::move(done));
    }
    wake_.notify_one();
    return true;
}

void AlertWebhook::run(std::stop_token stop) {
    while (!stop.stop_requested()) {
        std::pair<std::string, Delivered> alert;
        {
            std::unique_lock lock(mutex_);
            if (!wake_.wait(lock, stop, [this] { return !queue_.empty(); })) return;
            alert = std::move(queue_.front());
            queue_.pop_front();
        }
        const bool delivered = deliver(alert.first, stop);
        (delivered ? metrics_.alerts.webhook_sent : metrics_.alerts.webhook_failures).fetch_add(1);
        // Stopping, the caller may be gone; an alert not marked sent is sent by another
        // instance once this one's hold runs out.
        if (stop.stop_requested()) return;
        if (alert.second) alert.second(delivered);
    }
}

bool AlertWebhook::deliver(const std::string& json, std::stop_token stop) {
    OutboundRequest request;
    request.url = config_.webhook_url;
    request.method = "POST";
    request.body = json;
    request.user_agent = "haven-alerts";
    request.timeout = std::chrono::milliseconds(config_.webhook_timeout_ms);
    if (!config_.webhook_secret.empty()) {
        if (const auto mac = auth::hmac_sha256(config_.webhook_secret, json)) {
            request.headers.emplace_back("X-Haven-Signature", "sha256=" + hex(*mac));
        }
    }
    for (std::uint32_t attempt = 1; attempt <= config_.webhook_attempts; ++attempt) {
        std::string error;
        const auto response = send_http_request(request, error);
        if (response && response->status >= 200 && response->status < 300) return true;
        // The address is the operator's; it may carry a token, so it is not logged.
        spdlog::warn("alert webhook: attempt {} of {} failed ({})", attempt,
                     config_.webhook_attempts,
                     response ? "status " + std::to_string(response->status) : error);
        if (attempt == config_.webhook_attempts) break;
        std::mutex pause;
        std::unique_lock lock(pause);
        std::condition_variable_any sleeper;
        const std::chrono::milliseconds wait(rooms::webhook_pause_ms(attempt));
        if (sleeper.wait_for(lock, stop, wait, [] { return false; })) return false;
        if (stop.stop_requested()) return false;
    }
    return false;
}

}  // namespace haven::http
