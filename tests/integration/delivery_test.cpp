// Exactly-once delivery of retried posts, recovery after a reconnect, and history paging.
#include <doctest/doctest.h>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

const std::string kFastPosts = "[limits]\nposts_per_second = 1000.0\npost_burst = 1000\n";

std::vector<std::uint64_t> seqs_of(const google::protobuf::RepeatedPtrField<v1::Event>& events) {
    std::vector<std::uint64_t> out;
    for (const auto& event : events) out.push_back(event.seq());
    return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t seq = first; seq <= last; ++seq) out.push_back(seq);
    return out;
}

// Everything `reader` receives up to and including the posted event with this id; the room's
// order guarantees that everything posted before it has arrived by then.
std::vector<v1::ServerMessage> read_through(Client& reader, const std::string& sentinel_id) {
    reader.expect(posted_with_id(sentinel_id), "the sentinel post");
    std::vector<v1::ServerMessage> seen(reader.inbox().begin(), reader.inbox().end());
    reader.inbox().clear();
    return seen;
}

std::size_t count_posted(const std::vector<v1::ServerMessage>& messages,
                         const std::string& client_msg_id) {
    return static_cast<std::size_t>(
        std::count_if(messages.begin(), messages.end(), posted_with_id(client_msg_id)));
}

TEST_CASE("a retried post is acknowledged with the original seq and delivered once") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "grief-and-loss" : "lobby";
        Client author = guest_in(server, encoding, room);
        Client reader =
            guest_in(server, encoding == Encoding::json ? Encoding::binary : Encoding::json, room);
        const std::string id = unique_id("retry");
        const v1::Ack first = author.post(room, "I wanted to share something", id);
        CHECK_FALSE(first.duplicate());
        for (int retry = 0; retry < 2; ++retry) {
            const v1::Ack again = author.post(room, "I wanted to share something", id);
            CHECK(again.seq() == first.seq());
            CHECK(again.duplicate());
            CHECK(again.client_msg_id() == id);
        }
        // Another person may use the same client id: it is per author.
        const v1::Ack other = reader.post(room, "me too", id);
        CHECK_FALSE(other.duplicate());
        CHECK(other.seq() == first.seq() + 1);

        const std::string sentinel = unique_id("sentinel");
        author.post(room, "after the retries", sentinel);
        const auto seen = read_through(reader, sentinel);
        CHECK(std::count_if(seen.begin(), seen.end(), posted_seq(room, first.seq())) == 1);
        const auto authored = read_through(author, sentinel);
        CHECK(std::count_if(authored.begin(), authored.end(), posted_seq(room, first.seq())) == 1);
    }
}

TEST_CASE("a guest that reconnects with its guest_token keeps its retries deduplicated") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "anxiety-support" : "lobby";
        Client reader = guest_in(server, encoding, room);

        Client guest(server, encoding);
        const v1::Welcome welcome = guest.hello_guest("Night Owl");
        REQUIRE_FALSE(welcome.guest_token().empty());
        guest.join(room);
        const std::string id = unique_id("flaky");
        const v1::Ack first =
            guest.post(room, "posted just before my train went into a tunnel", id);
        guest.ws().drop();

        Client back(server, encoding);
        const v1::Welcome resumed = back.hello_guest("", welcome.guest_token());
        CHECK(resumed.handle() == "Night Owl");
        CHECK(resumed.session_id() != welcome.session_id());  // a new connection
        back.join(room, first.seq());
        const v1::Ack retried =
            back.post(room, "posted just before my train went into a tunnel", id);
        CHECK(retried.seq() == first.seq());
        CHECK(retried.duplicate());

        // A guest without the token is someone else (under another name: one look per name
        // in a room): the same id is a new post.
        Client stranger(server, encoding);
        stranger.hello_guest("Night Owl 2");
        stranger.join(room);
        CHECK_FALSE(stranger.post(room, "different person", id).duplicate());

        const std::string sentinel = unique_id("sentinel");
        back.post(room, "made it", sentinel);
        const auto seen = read_through(reader, sentinel);
        CHECK(count_posted(seen, id) == 2);  // the guest's once, the stranger's once
        CHECK(std::count_if(seen.begin(), seen.end(), posted_seq(room, first.seq())) == 1);
    }
}

TEST_CASE("Join with since_seq returns exactly the missed events") {
    ServerProcess server({.toml = kFastPosts});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "evening-circle" : "grief-and-loss";
        Client author = guest_in(server, encoding, room);
        for (int i = 0; i < 3; ++i) author.post(room, "before " + std::to_string(i));

        Client reader(server, encoding);
        const v1::Welcome welcome = reader.hello_guest();
        const v1::Joined joined = reader.join(room);
        const std::uint64_t seen = joined.last_seq();
        CHECK(seen == 3);
        reader.ws().drop();

        std::vector<std::uint64_t> missed;
        for (int i = 0; i < 4; ++i) {
            missed.push_back(author.post(room, "while away " + std::to_string(i)).seq());
        }

        Client back(server, encoding);
        back.hello_guest("", welcome.guest_token());
        const v1::Joined recovered = back.join(room, seen);
        CHECK(recovered.recovered());
        CHECK(recovered.last_seq() == missed.back());
        CHECK(seqs_of(recovered.events()) == missed);
        for (int i = 0; i < recovered.events_size(); ++i) {
            CHECK(recovered.events(i).posted().text() == "while away " + std::to_string(i));
        }

        // Nothing missed: an empty, complete recovery.
        back.send(msg_leave(room));
        back.expect([](const v1::ServerMessage& m) { return m.has_left(); }, "Left");
        const v1::Joined current = back.join(room, missed.back());
        CHECK(current.recovered());
        CHECK(current.events_size() == 0);
    }
}

TEST_CASE("Join with a since_seq older than retained history is not recovered") {
    ServerProcess server({.toml = kFastPosts + "[history]\nmax_events = 5\njoin_events = 3\n"});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "anxiety-support" : "lobby";
        Client author = guest_in(server, encoding, room);
        std::uint64_t last = 0;
        for (int i = 0; i < 10; ++i) last = author.post(room, "p" + std::to_string(i)).seq();
        REQUIRE(last == 10);

        Client late(server, encoding);
        late.hello_guest();
        const v1::Joined joined = late.join(room, 2);
        CHECK_FALSE(joined.recovered());
        CHECK(joined.last_seq() == 10);
        CHECK(seqs_of(joined.events()) == range(8, 10));  // the recent tail, join_events long

        // Still within retention: recovered.
        Client recent(server, encoding);
        recent.hello_guest();
        const v1::Joined ok = recent.join(room, 6);
        CHECK(ok.recovered());
        CHECK(seqs_of(ok.events()) == range(7, 10));

        // A since_seq the room never reached (e.g. from before a restart): not recovered.
        Client future(server, encoding);
        future.hello_guest();
        CHECK_FALSE(future.join(room, 1000).recovered());
    }
}

TEST_CASE("History pages backwards with before_seq and forwards with after_seq") {
    ServerProcess server({.toml = kFastPosts});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "grief-and-loss" : "lobby";
        Client client = guest_in(server, encoding, room);
        for (int i = 1; i <= 12; ++i) client.post(room, "h" + std::to_string(i));

        const auto page = [&](std::uint64_t before, std::uint64_t after, std::uint32_t limit) {
            const v1::ServerMessage reply =
                client.reply(client.send(msg_history(room, before, after, limit)));
            INFO(describe(reply));
            REQUIRE(reply.has_history());
            CHECK(reply.history().room_id() == room);
            CHECK(reply.history().oldest_seq() == 1);
            return reply.history();
        };

        v1::HistoryPage newest = page(0, 0, 5);
        CHECK(seqs_of(newest.events()) == range(8, 12));
        CHECK(newest.has_more());
        CHECK(newest.events(0).posted().text() == "h8");

        v1::HistoryPage older = page(8, 0, 5);
        CHECK(seqs_of(older.events()) == range(3, 7));
        CHECK(older.has_more());

        v1::HistoryPage oldest = page(3, 0, 5);
        CHECK(seqs_of(oldest.events()) == range(1, 2));
        CHECK_FALSE(oldest.has_more());

        v1::HistoryPage forward = page(0, 2, 3);
        CHECK(seqs_of(forward.events()) == range(3, 5));
        CHECK(forward.has_more());

        v1::HistoryPage tail = page(0, 10, 5);
        CHECK(seqs_of(tail.events()) == range(11, 12));
        CHECK_FALSE(tail.has_more());

        v1::HistoryPage between = page(8, 3, 10);
        CHECK(seqs_of(between.events()) == range(4, 7));
        CHECK_FALSE(between.has_more());

        v1::HistoryPage everything = page(0, 0, 0);  // 0 = the server's largest page
        CHECK(seqs_of(everything.events()) == range(1, 12));
        CHECK_FALSE(everything.has_more());

        CHECK(client.error_reply(client.send(msg_history(room, 4, 3, 5))) == v1::BAD_REQUEST);
        CHECK(client.error_reply(client.send(msg_history("evening-circle", 0, 0, 5))) ==
              v1::NOT_JOINED);
    }
}

// Posts at the character limit are valid, so are the Joined and HistoryPage messages made of
// them: with the default limits they must reach the client instead of overflowing its
// outbound queue (1 MiB) and getting it disconnected as a slow consumer.
TEST_CASE("a room whose recent posts are long can still be joined (default limits)") {
    ServerProcess server({.toml = kFastPosts});
    require_started(server);
    Client author = guest_in(server, Encoding::binary, "lobby");
    // 4000 code points of U+0001: 4000 bytes each in protobuf, 24000 in JSON (\u0001).
    const std::string text(4000, '\x01');
    for (int i = 0; i < 50; ++i) {
        author.post("lobby", text);
        author.inbox().clear();
    }
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client reader(server, encoding);
        reader.hello_guest();
        const std::uint64_t request = reader.send(msg_join("lobby"));
        const auto joined = reader.next(reply_to(request), 5s);
        INFO("connection: " << reader.ws().last_error());
        REQUIRE(joined.has_value());
        REQUIRE(joined->has_joined());
        CHECK(joined->joined().events_size() == 50);
    }
}

TEST_CASE("History of long posts comes in bounded pages that together hold everything") {
    ServerProcess server({.toml = kFastPosts});
    require_started(server);
    // 70 posts of 4000 four-byte code points (16000 bytes each, ~1.1 MB together).
    std::string wide;
    for (int i = 0; i < 4000; ++i) wide += "\xF0\x9F\x8C\xBF";
    Client pager = guest_in(server, Encoding::binary, "anxiety-support");
    for (int i = 0; i < 70; ++i) {
        pager.post("anxiety-support", wide);
        pager.inbox().clear();
    }
    // Pages are capped in bytes (well under the outbound queue), so paging backwards quickly,
    // two requests in flight at once, never looks like a slow consumer.
    std::vector<std::uint64_t> seqs;
    std::uint64_t before = 0;
    for (int round = 0; round < 20; ++round) {
        const std::uint64_t first = pager.send(msg_history("anxiety-support", before, 0, 70));
        const std::uint64_t again = pager.send(msg_history("anxiety-support", before, 0, 70));
        const auto page = pager.next(reply_to(first), 5s);
        const auto duplicate = pager.next(reply_to(again), 5s);
        INFO("connection: " << pager.ws().last_error());
        REQUIRE(page.has_value());
        REQUIRE(duplicate.has_value());
        REQUIRE(page->has_history());
        REQUIRE(page->history().events_size() > 0);
        CHECK(page->history().events_size() < 70);
        for (int i = page->history().events_size() - 1; i >= 0; --i) {
            seqs.push_back(page->history().events(i).seq());
        }
        before = page->history().events(0).seq();
        if (!page->history().has_more()) break;
    }
    REQUIRE(seqs.size() == 70);
    for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == 70 - i);
}

}  // namespace
}  // namespace haven::test
