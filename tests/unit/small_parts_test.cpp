#include <doctest/doctest.h>

#include <random>
#include <set>
#include <string>

#include "auth/guest_names.hpp"
#include "auth/guest_pass.hpp"
#include "auth/handle_policy.hpp"
#include "core/token_bucket.hpp"
#include "net/upgrade_policy.hpp"
#include "protocol/utf8.hpp"

using namespace haven;

TEST_CASE("utf8_length counts code points and rejects malformed UTF-8") {
    CHECK(protocol::utf8_length("") == 0u);
    CHECK(protocol::utf8_length("abc") == 3u);
    CHECK(protocol::utf8_length("ünï") == 3u);
    CHECK(protocol::utf8_length("🌱🌱") == 2u);
    CHECK_FALSE(protocol::utf8_length("\xc3"));              // truncated
    CHECK_FALSE(protocol::utf8_length("\xc3\x28"));          // bad continuation
    CHECK_FALSE(protocol::utf8_length("\xc0\xaf"));          // overlong
    CHECK_FALSE(protocol::utf8_length("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(protocol::utf8_length("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK_FALSE(protocol::utf8_length("\xff"));
}

TEST_CASE("token bucket allows a burst, then the refill rate") {
    using Clock = core::TokenBucket::Clock;
    core::TokenBucket bucket(2.0, 3.0);
    const auto start = Clock::now();
    CHECK(bucket.try_take(start));
    CHECK(bucket.try_take(start));
    CHECK(bucket.try_take(start));
    CHECK_FALSE(bucket.try_take(start));
    CHECK(bucket.wait_time(start).count() > 0);
    CHECK(bucket.wait_time(start).count() <= 501);
    CHECK(bucket.try_take(start + std::chrono::milliseconds(510)));
    CHECK_FALSE(bucket.try_take(start + std::chrono::milliseconds(520)));
}

TEST_CASE("token bucket charges a cost, and a cost above the burst leaves it in debt") {
    using Clock = core::TokenBucket::Clock;
    core::TokenBucket bucket(10.0, 100.0);  // e.g. history events: 100 at once, 10 a second
    const auto start = Clock::now();
    CHECK(bucket.try_take(start, 60));
    CHECK_FALSE(bucket.try_take(start, 60));  // 40 left
    CHECK(bucket.wait_time(start, 60).count() >= 1999);
    CHECK(bucket.try_take(start + std::chrono::seconds(2), 60));
    // A request larger than the whole burst waits for a full bucket, then goes through.
    CHECK_FALSE(bucket.try_take(start + std::chrono::seconds(2), 250));
    CHECK(bucket.try_take(start + std::chrono::seconds(12), 250));
    CHECK_FALSE(bucket.try_take(start + std::chrono::seconds(12), 1));  // in debt now
}

TEST_CASE("guest handles the server gives 500 guests all look different") {
    // Handles are unique per room (by auth::handle_key): a name given by the server must not
    // turn a guest away from a busy room.
    for (std::uint64_t seed : {1u, 7u, 42u}) {
        std::mt19937_64 rng(seed);
        std::set<std::string> keys;
        for (int i = 0; i < 500; ++i) keys.insert(auth::handle_key(auth::random_guest_handle(rng)));
        CHECK(keys.size() == 500);
    }
}

TEST_CASE("guest handles are generated or cleaned") {
    std::mt19937_64 rng(7);
    const std::string generated = auth::random_guest_handle(rng);
    CHECK(auth::clean_handle(generated) == generated);
    CHECK(auth::clean_handle("  Sky   Walker ") == "Sky Walker");
    CHECK(auth::clean_handle("Zoë") == "Zoë");
    CHECK_FALSE(auth::clean_handle("x"));
    CHECK_FALSE(auth::clean_handle("<script>"));
    CHECK_FALSE(auth::clean_handle("tab\there"));
    CHECK_FALSE(auth::clean_handle(std::string(33, 'a')));
}

TEST_CASE("guest passes round-trip and cannot be forged or reused after expiry") {
    auth::GuestPasses passes("one-secret-long-enough-for-hs256-xx", 60);
    const std::string pass = passes.issue("guest:abc", "Quiet Heron 12", 1000);
    const auto claims = passes.verify(pass, 1010);
    REQUIRE(claims);
    CHECK(claims->subject == "guest:abc");
    CHECK(claims->handle == "Quiet Heron 12");
    CHECK_FALSE(passes.verify(pass, 1000 + 61));
    auth::GuestPasses other("another-secret-long-enough-for-hs256", 60);
    CHECK_FALSE(other.verify(pass, 1010));
    // An operator's identity token is not a guest pass, even with the same secret.
    auth::JwtVerifier tokens({"one-secret-long-enough-for-hs256-xx", "", 0});
    CHECK(tokens.verify(pass, 1010).claims);
}

TEST_CASE("subprotocol choice follows the client's offers") {
    CHECK(net::choose_subprotocol("")->encoding == protocol::Encoding::binary);
    CHECK(net::choose_subprotocol("")->name.empty());
    CHECK(net::choose_subprotocol("haven.v1.json")->encoding == protocol::Encoding::json);
    CHECK(net::choose_subprotocol("chat, haven.v1.proto")->name == "haven.v1.proto");
    CHECK(net::choose_subprotocol(" haven.v1.json , haven.v1.proto")->name == "haven.v1.json");
    CHECK_FALSE(net::choose_subprotocol("chat, superchat"));
}

TEST_CASE("origin allow-list") {
    const std::vector<std::string> allowed{"https://haven.example"};
    CHECK(net::origin_allowed("https://haven.example", allowed));
    CHECK_FALSE(net::origin_allowed("https://evil.example", allowed));
    CHECK(net::origin_allowed("", allowed));
    CHECK(net::origin_allowed("https://anything.example", {}));
}
