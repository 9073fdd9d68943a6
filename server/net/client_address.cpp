#include "net/client_address.hpp"

#include <array>
#include <cstdint>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace haven::net {

namespace ip = boost::asio::ip;

namespace {

ip::address unmapped(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    }
    return address;
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& networks) {
    for (const std::string& text : networks) {
        const bool is_network = text.find('/') != std::string::npos;
        const bool is_v6 = text.find(':') != std::string::npos;
        if (is_v6) {
            v6_.push_back(is_network ? ip::make_network_v6(text)
                                     : ip::network_v6(ip::make_address_v6(text), 128));
        } else {
            v4_.push_back(is_network ? ip::make_network_v4(text)
                                     : ip::network_v4(ip::make_address_v4(text), 32));
        }
    }
}

bool TrustedProxies::contains(const ip::address& address) const {
    const ip::address plain = unmapped(address);
    if (plain.is_v4()) {
        const ip::network_v4 host(plain.to_v4(), 32);
        for (const auto& network : v4_) {
            if (host == network || host.is_subnet_of(network)) return true;
        }
        return false;
    }
    const ip::network_v6 host(plain.to_v6(), 128);
    for (const auto& network : v6_) {
        if (host == network || host.is_subnet_of(network)) return true;
    }
    return false;
}

ip::address client_address(const ip::address& peer, std::string_view forwarded_for,
                           const TrustedProxies& proxies) {
    ip::address nearest = peer;
    if (!proxies.contains(peer)) return nearest;
    while (!forwarded_for.empty()) {
        const std::size_t comma = forwarded_for.rfind(',');
        const std::string_view entry = trimmed(
            comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
        forwarded_for =
            comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
        boost::system::error_code ec;
        const ip::address hop = ip::make_address(std::string(entry), ec);
        if (ec) return nearest;  // not written by a trusted proxy: the last good hop stands
        nearest = hop;
        if (!proxies.contains(hop)) return nearest;
    }
    return nearest;
}

std::string address_key(const ip::address& address, std::string_view key) {
    const ip::address plain = unmapped(address);
    std::array<unsigned char, 17> input{};
    std::size_t length = 0;
    if (plain.is_v4()) {
        input[0] = 4;
        const auto bytes = plain.to_v4().to_bytes();
        std::copy(bytes.begin(), bytes.end(), input.begin() + 1);
        length = 1 + bytes.size();
    } else {
        input[0] = 6;
        const auto bytes = plain.to_v6().to_bytes();
        std::copy(bytes.begin(), bytes.begin() + 8, input.begin() + 1);  // the /64
        length = 1 + 8;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input.data(), length, digest,
         &digest_length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < 7; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 0xF]);
    }
    return out;
}

}  // namespace haven::net
