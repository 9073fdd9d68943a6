// What the cluster tests share: the configuration that puts an instance on a test Redis.
#pragma once

#include <string>

#include "support/redis_process.hpp"

namespace haven::test {

// Posting limits high enough that tests are never slowed by them.
inline const std::string kFastPosts = "posts_per_second = 1000.0\npost_burst = 1000\n";

// The TOML that puts an instance on `redis` under `prefix`, sharing guest identities with its
// siblings; `limits` is the body of its [limits] table.
std::string cluster_toml(const RedisProcess& redis, const std::string& prefix,
                         const std::string& limits);

}  // namespace haven::test
