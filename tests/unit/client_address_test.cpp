// Client addresses as the limits and bans see them: the proxies believed, the hop chosen from
// X-Forwarded-For, the keyed hash, and the per-address counts.
#include <doctest/doctest.h>

#include "core/address_limits.hpp"
#include "net/client_address.hpp"

namespace haven {
namespace {

namespace ip = boost::asio::ip;

TEST_CASE(
    "client address: only a trusted proxy's X-Forwarded-For is believed, read from the right") {
    const net::TrustedProxies proxies({"10.0.0.0/8", "192.0.2.1", "fd00::/8"});
    const auto peer = ip::make_address("10.1.2.3");
    CHECK(net::client_address(peer, "203.0.113.7", proxies) == ip::make_address("203.0.113.7"));
    // The client may write anything left of what the proxies appended.
    CHECK(net::client_address(peer, "1.1.1.1, 203.0.113.7", proxies) ==
          ip::make_address("203.0.113.7"));
    // Proxies in a chain are skipped; the nearest untrusted hop is the client.
    CHECK(net::client_address(peer, "203.0.113.7, 192.0.2.1 , 10.9.9.9", proxies) ==
          ip::make_address("203.0.113.7"));
    // A malformed hop ends the walk at the last good one; no header: the proxy itself.
    CHECK(net::client_address(peer, "junk, 10.9.9.9", proxies) == ip::make_address("10.9.9.9"));
    CHECK(net::client_address(peer, "", proxies) == peer);
    // An untrusted peer's header is its own word.
    const auto direct = ip::make_address("198.51.100.4");
    CHECK(net::client_address(direct, "203.0.113.7", proxies) == direct);
    CHECK(proxies.contains(ip::make_address("fd12::1")));
    CHECK(proxies.contains(ip::make_address("::ffff:10.0.0.1")));
    CHECK_FALSE(proxies.contains(ip::make_address("192.0.2.2")));
    CHECK(net::TrustedProxies({}).empty());
}

TEST_CASE("client address: keyed hashes, one per IPv4 address and per IPv6 /64") {
    const std::string key = "secret-one";
    const std::string a = net::address_key(ip::make_address("203.0.113.7"), key);
    CHECK(a.size() == 14);
    CHECK(a == net::address_key(ip::make_address("::ffff:203.0.113.7"), key));
    CHECK(a != net::address_key(ip::make_address("203.0.113.8"), key));
    CHECK(a != net::address_key(ip::make_address("203.0.113.7"), "secret-two"));
    CHECK(a.find("203") == std::string::npos);
    CHECK(net::address_key(ip::make_address("2001:db8:1:2::1"), key) ==
          net::address_key(ip::make_address("2001:db8:1:2:ffff::9"), key));
    CHECK(net::address_key(ip::make_address("2001:db8:1:2::1"), key) !=
          net::address_key(ip::make_address("2001:db8:1:3::1"), key));
}

TEST_CASE("address limits: connections, upgrades, buffered bytes and new guests per address") {
    config::LimitsConfig limits;
    limits.connections_per_address = 3;
    limits.upgrades_per_address = 2;
    limits.address_buffer_bytes = 1000;
    limits.new_guests_per_address_per_hour = 2;
    limits.max_tracked_addresses = 100;
    core::AddressLimits table(limits);

    auto [first_refusal, first] = table.open("a");
    auto [second_refusal, second] = table.open("a");
    CHECK(first_refusal == core::Refusal::none);
    CHECK(second_refusal == core::Refusal::none);
    CHECK(table.open("a").first == core::Refusal::upgrades_per_address);
    first.upgraded();
    auto [third_refusal, third] = table.open("a");
    CHECK(third_refusal == core::Refusal::none);
    third.upgraded();
    CHECK(table.open("a").first == core::Refusal::connections_per_address);
    CHECK(table.open("b").first == core::Refusal::none);  // and released at once

    CHECK(first.hold_buffered(600));
    CHECK_FALSE(second.hold_buffered(600));  // 1200 > 1000 for the address
    CHECK(second.hold_buffered(400));
    CHECK(first.hold_buffered(0));
    CHECK(second.hold_buffered(1000));

    const auto now = core::TokenBucket::Clock::now();
    CHECK(table.take_new_guest("a", now).first == core::Refusal::none);
    CHECK(table.take_new_guest("a", now).first == core::Refusal::none);
    const auto [refusal, wait] = table.take_new_guest("a", now);
    CHECK(refusal == core::Refusal::new_guests_per_address);
    CHECK(wait >= std::chrono::minutes(29));  // two an hour: one every 30 minutes

    // Moving to the client a proxy names keeps the count right on both sides.
    CHECK(table.reattribute(third, "c") == core::Refusal::none);
    CHECK(third.key() == "c");
    auto [again_refusal, again] = table.open("a");
    CHECK(again_refusal == core::Refusal::none);

    // An address with no connection left and no guest budget to remember is forgotten.
    CHECK(table.tracked_addresses() == 2);  // "a" (connections, guests) and "c"
    third = core::AddressLimits::Lease{};
    CHECK(table.tracked_addresses() == 1);
}

TEST_CASE("address limits: the table never holds more than max_tracked_addresses") {
    config::LimitsConfig limits;
    limits.max_tracked_addresses = 100;
    core::AddressLimits table(limits);
    std::vector<core::AddressLimits::Lease> held;
    for (int i = 0; i < 100; ++i) {
        auto [refusal, lease] = table.open("addr-" + std::to_string(i));
        REQUIRE(refusal == core::Refusal::none);
        held.push_back(std::move(lease));
    }
    CHECK(table.open("one-too-many").first == core::Refusal::address_table_full);
    held.pop_back();
    CHECK(table.open("one-too-many").first == core::Refusal::none);
    CHECK(table.tracked_addresses() == 99);
}

}  // namespace
}  // namespace haven
