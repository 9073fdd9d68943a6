// Who a connection comes from, as far as limits and bans care: the peer's address, or the
// client a trusted proxy names in X-Forwarded-For; and the keyed hash that stands for it.
// The address itself is never stored or logged, only its key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace haven::net {

// The purpose the address key is derived for from the guest secret (auth::GuestPasses), so
// every instance sharing that secret gives one address one key and an address ban holds on all.
inline constexpr std::string_view kAddressKeyPurpose = "haven client address key v1";

class TrustedProxies {
public:
    // Each entry an IP address or CIDR network, validated by the config loader.
    explicit TrustedProxies(const std::vector<std::string>& networks);
    bool empty() const { return v4_.empty() && v6_.empty(); }
    bool contains(const boost::asio::ip::address& address) const;

private:
    std::vector<boost::asio::ip::network_v4> v4_;
    std::vector<boost::asio::ip::network_v6> v6_;
};

// The client's address: `peer` unless it is a trusted proxy, then the nearest address in
// `forwarded_for` (an X-Forwarded-For value; proxies append, so read from the right) that is
// not a trusted proxy. A malformed entry ends the walk at the last address read.
boost::asio::ip::address client_address(const boost::asio::ip::address& peer,
                                        std::string_view forwarded_for,
                                        const TrustedProxies& proxies);

// A keyed hash of the address (HMAC-SHA256 with `key`, 56 bits in hex: short enough to sit
// inside a std::string without an allocation). IPv6 addresses count by their /64, what one
// subscriber is usually given; IPv4-mapped ones as IPv4.
std::string address_key(const boost::asio::ip::address& address, std::string_view key);

}  // namespace haven::net
