// The last step of the escalation ladder: an urgent item nobody claimed is POSTed to the
// operators' on-call system ([safety] webhook_url), with retries and doubling backoff. Its own
// thread does the blocking HTTP, so no shard ever waits on a slow receiver; a bounded queue
// keeps a dead receiver from growing the server. The body carries no message text and no
// identity (rooms/alert_ladder.hpp); with webhook_secret set it is signed:
// X-Haven-Signature: sha256=<hex HMAC-SHA256 of the body>. Whether the receiver took an
// alert is told to the caller, which marks it sent for every instance (rooms::ServerWide).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "config/config.hpp"
#include "core/metrics.hpp"

namespace haven::http {

class AlertWebhook {
public:
    AlertWebhook(config::SafetyConfig config, core::Metrics& metrics);
    // Stops after the attempt in progress; what is still queued is counted as failed.
    ~AlertWebhook();
    AlertWebhook(const AlertWebhook&) = delete;
    AlertWebhook& operator=(const AlertWebhook&) = delete;

    // Called on the webhook's thread once the receiver took the alert (true) or every
    // attempt failed (false); not called for what is still queued at destruction.
    using Delivered = std::function<void(bool delivered)>;

    // Queues one alert (any thread; never blocks). False when the queue is full.
    bool send(std::string json, Delivered done = {});

private:
    void run(std::stop_token stop);
    bool deliver(const std::string& json, std::stop_token stop);

    const config::SafetyConfig config_;
    core::Metrics& metrics_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<std::pair<std::string, Delivered>> queue_;
    std::jthread worker_;  // last: starts once the rest is ready
};

}  // namespace haven::http
