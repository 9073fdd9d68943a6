// What the cluster tests share: the configuration that puts an instance on a test Redis.
#pragma once

#include <memory>
#include <string>

#include "support/redis_process.hpp"
#include "support/server_process.hpp"

namespace haven::test {

// Posting limits high enough that tests are never slowed by them.
inline const std::string kFastPosts = "posts_per_second = 1000.0\npost_burst = 1000\n";

// The TOML that puts an instance on `redis` under `prefix`, sharing guest identities with its
// siblings; `limits` is the body of its [limits] table.
std::string cluster_toml(const RedisProcess& redis, const std::string& prefix,
                         const std::string& limits);

// A test Redis and two instances on it under a fresh key prefix, all started (REQUIREd).
struct TwoInstances {
    explicit TwoInstances(const std::string& name, const std::string& limits = kFastPosts);
    RedisProcess redis;
    std::string prefix;  // the instances' broker.key_prefix, for one more started later
    std::unique_ptr<ServerProcess> first;
    std::unique_ptr<ServerProcess> second;
};

}  // namespace haven::test
