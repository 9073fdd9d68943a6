#include "integration/cluster_support.hpp"

#include "integration/helpers.hpp"

namespace haven::test {

std::string cluster_toml(const RedisProcess& redis, const std::string& prefix,
                         const std::string& limits) {
    static const std::string kGuestSecret = "cluster-guest-secret-0123456789abcdefghij";
    return "[broker]\nkind = \"redis\"\nredis_url = \"" + redis.url() + "\"\nkey_prefix = \"" +
           prefix + "\"\npresence_timeout_seconds = 3\n[auth]\nguest_enabled = true\n" +
           "guest_secret = \"" + kGuestSecret + "\"\njwt_hs256_secret = \"" + kJwtSecret +
           "\"\n[server]\ndrain_grace_ms = 1500\n[limits]\n" + limits;
}

TwoInstances::TwoInstances(const std::string& name, const std::string& limits) {
    REQUIRE(redis_available());
    REQUIRE(redis.start());
    prefix = unique_id(name) + ":";
    first =
        std::make_unique<ServerProcess>(ServerOptions{.toml = cluster_toml(redis, prefix, limits)});
    second =
        std::make_unique<ServerProcess>(ServerOptions{.toml = cluster_toml(redis, prefix, limits)});
    require_started(*first);
    require_started(*second);
}

}  // namespace haven::test
