// Rooms: joining, posting and the events members see, across encodings and shards.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

// Generous post limits, for tests that post more than the default burst.
const std::string kFastPosts = "[limits]\nposts_per_second = 1000.0\npost_burst = 1000\n";

std::set<std::string> member_ids(const v1::Joined& joined) {
    std::set<std::string> ids;
    for (const auto& member : joined.members()) ids.insert(member.member_id());
    return ids;
}

std::optional<std::uint64_t> api_member_count(const ServerProcess& server,
                                              const std::string& room) {
    const HttpResult result = http_get(server.port(), "/api/rooms");
    if (result.status != 200) return std::nullopt;
    const boost::json::value doc = boost::json::parse(result.body);
    for (const auto& entry : doc.at("rooms").as_array()) {
        if (entry.at("id").as_string() == room)
            return entry.at("memberCount").to_number<std::uint64_t>();
    }
    return std::nullopt;
}

TEST_CASE("Join returns the room with its members and recent events") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "grief-and-loss" : "anxiety-support";
        Client first(server, encoding);
        first.hello_guest("First Person");
        const v1::Joined empty = first.join(room);
        CHECK(empty.room().id() == room);
        CHECK_FALSE(empty.room().title().empty());
        CHECK(empty.room().kind() == "group");
        CHECK(empty.events_size() == 0);
        CHECK(empty.last_seq() == 0);
        CHECK(member_ids(empty) == std::set<std::string>{first.member_id()});

        std::vector<std::uint64_t> seqs;
        for (int i = 0; i < 3; ++i) {
            seqs.push_back(first.post(room, "message " + std::to_string(i)).seq());
        }
        CHECK(seqs == std::vector<std::uint64_t>{1, 2, 3});

        Client second(server, encoding);
        second.hello_guest();
        const v1::Joined joined = second.join(room);
        CHECK(member_ids(joined) == std::set<std::string>{first.member_id(), second.member_id()});
        CHECK(joined.last_seq() == 3);
        CHECK(joined.recovered());
        REQUIRE(joined.events_size() == 3);
        for (int i = 0; i < 3; ++i) {
            const v1::Event& event = joined.events(i);
            CHECK(event.seq() == static_cast<std::uint64_t>(i + 1));  // oldest first
            REQUIRE(event.has_posted());
            CHECK(event.posted().text() == "message " + std::to_string(i));
            CHECK(event.posted().author().handle() == "First Person");
            CHECK(event.posted().author().member_id() == first.member_id());
            CHECK(event.time_ms() > 0);
        }
        // Joining twice is refused; the membership is unchanged.
        CHECK(second.error_reply(second.send(msg_join(room))) == v1::ALREADY_JOINED);
    }
}

TEST_CASE("a post is acknowledged to its author and delivered to every member") {
    ServerProcess server;
    require_started(server);
    const std::pair<Encoding, Encoding> pairs[] = {{Encoding::binary, Encoding::binary},
                                                   {Encoding::binary, Encoding::json},
                                                   {Encoding::json, Encoding::binary},
                                                   {Encoding::json, Encoding::json}};
    int round = 0;
    for (const auto& [author_encoding, reader_encoding] : pairs) {
        CAPTURE_ENCODING(author_encoding);
        CAPTURE_ENCODING(reader_encoding);
        const std::string room = kDefaultRooms[round++ % 4];
        Client author = guest_in(server, author_encoding, room, "Author");
        Client reader = guest_in(server, reader_encoding, room, "Reader");

        v1::ClientMessage post =
            msg_post(room, "Today was hard, but I made it through ✨", unique_id("msg"));
        post.mutable_post()->set_content_warning("low mood");
        const std::uint64_t request = author.send(post);
        const v1::ServerMessage reply = author.reply(request);
        INFO(describe(reply));
        REQUIRE(reply.has_ack());
        const v1::Ack& ack = reply.ack();
        CHECK(ack.room_id() == room);
        CHECK(ack.seq() >= 1);
        CHECK(ack.client_msg_id() == post.post().client_msg_id());
        CHECK_FALSE(ack.duplicate());

        for (Client* member : {&author, &reader}) {
            const v1::ServerMessage message =
                member->expect(posted_seq(room, ack.seq()), "the posted event");
            CHECK(message.request_id() == 0);
            const v1::Posted& posted = message.event().posted();
            CHECK(posted.text() == post.post().text());
            CHECK(posted.client_msg_id() == post.post().client_msg_id());
            CHECK(posted.content_warning() == "low mood");
            CHECK(posted.author().handle() == "Author");
            CHECK(posted.author().member_id() == author.member_id());
            CHECK(posted.author().role() == v1::ROLE_PARTICIPANT);
        }
    }
}

TEST_CASE("twenty posts get sequence numbers increasing by exactly one") {
    ServerProcess server({.toml = kFastPosts});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "evening-circle" : "lobby";
        Client author = guest_in(server, encoding, room);
        Client reader = guest_in(server, encoding, room);
        // Pipelined: all sent before any reply is read.
        std::vector<std::uint64_t> requests;
        for (int i = 0; i < 20; ++i) {
            requests.push_back(author.send(msg_post(room, "post " + std::to_string(i))));
        }
        std::vector<std::uint64_t> acked;
        for (std::uint64_t request : requests) {
            const v1::ServerMessage reply = author.reply(request);
            INFO(describe(reply));
            REQUIRE(reply.has_ack());
            acked.push_back(reply.ack().seq());
        }
        for (std::size_t i = 1; i < acked.size(); ++i) CHECK(acked[i] == acked[i - 1] + 1);
        // The reader sees them all, in order, with the same numbers and texts.
        for (int i = 0; i < 20; ++i) {
            const v1::ServerMessage event = reader.expect(posted_in(room), "a posted event");
            CHECK(event.event().seq() == acked[static_cast<std::size_t>(i)]);
            CHECK(event.event().posted().text() == "post " + std::to_string(i));
        }
    }
}

TEST_CASE("members see each other join and type and leave") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        const std::string room = encoding == Encoding::json ? "anxiety-support" : "lobby";
        Client a = guest_in(server, encoding, room, "Alpha");
        Client b(server, encoding == Encoding::json ? Encoding::binary : Encoding::json);
        b.hello_guest("Bravo");
        const v1::Joined joined = b.join(room);
        CHECK(member_ids(joined) == std::set<std::string>{a.member_id(), b.member_id()});

        const v1::ServerMessage arrival = a.expect(member_joined(b.member_id()), "B's arrival");
        CHECK(arrival.event().room_id() == room);
        CHECK(arrival.event().seq() == 0);  // presence is not sequenced
        CHECK(arrival.event().member_joined().member().handle() == "Bravo");
        CHECK(eventually([&] { return api_member_count(server, room) == 2u; }));

        // Typing is fire-and-forget and reaches the other member.
        b.send(msg_typing(room, true));
        const v1::ServerMessage typing = a.expect(typing_from(b.member_id()), "B typing");
        CHECK(typing.event().typing().active());
        CHECK(typing.event().seq() == 0);
        b.send(msg_typing(room, false));
        CHECK_FALSE(
            a.expect(typing_from(b.member_id()), "B stopped typing").event().typing().active());

        // Leave: B gets Left, A sees B go, and B's posts are refused from then on.
        const v1::ServerMessage left = b.reply(b.send(msg_leave(room)));
        REQUIRE(left.has_left());
        CHECK(left.left().room_id() == room);
        a.expect(member_left(b.member_id()), "B leaving");
        CHECK(b.error_reply(b.send(msg_post(room, "still here?"))) == v1::NOT_JOINED);
        CHECK(b.error_reply(b.send(msg_leave(room))) == v1::NOT_JOINED);

        // Rejoin, then disconnect without a word: A sees B leave again.
        b.join(room);
        a.expect(member_joined(b.member_id()), "B's return");
        const std::string gone = b.member_id();
        b.ws().drop();
        a.expect(member_left(gone), "B's disconnect");

        // A newcomer finds only A.
        Client c(server, encoding);
        c.hello_guest();
        const v1::Joined later = c.join(room);
        CHECK(member_ids(later) == std::set<std::string>{a.member_id(), c.member_id()});
        CHECK(eventually([&] { return api_member_count(server, room) == 2u; }));
    }
}

TEST_CASE("a member in several rooms gets each room's events") {
    ServerProcess server;
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client reader(server, encoding);
        reader.hello_guest();
        for (const char* room : kDefaultRooms) reader.join(room);
        Client author(server, encoding);
        author.hello_guest();
        for (const char* room : kDefaultRooms) {
            author.join(room);
            const v1::Ack ack = author.post(room, std::string("in ") + room);
            const v1::ServerMessage event = reader.expect(posted_seq(room, ack.seq()), room);
            CHECK(event.event().posted().text() == std::string("in ") + room);
        }
        author.ws().close();
        reader.ws().close();
    }
}

TEST_CASE("room capacity and the per-session room limit") {
    ServerProcess server({.toml = R"([limits]
max_rooms_per_session = 2

[[rooms]]
id = "pair"
title = "Two at a time"
kind = "one_to_one"
capacity = 2

[[rooms]]
id = "open-a"
title = "Open A"

[[rooms]]
id = "open-b"
title = "Open B"
)"});
    require_started(server);
    for (Encoding encoding : kEncodings) {
        CAPTURE_ENCODING(encoding);
        Client first = guest_in(server, encoding, "pair");
        Client second(server, encoding);
        const v1::Welcome welcome = second.hello_guest();
        CHECK(welcome.rooms_size() == 3);  // the configured rooms replaced the defaults
        CHECK(welcome.limits().max_rooms() == 2);
        CHECK(second.join("pair").room().kind() == "one_to_one");
        Client third(server, encoding);
        third.hello_guest();
        CHECK(third.error_reply(third.send(msg_join("pair"))) == v1::ROOM_FULL);
        // A place frees up when someone leaves.
        first.reply(first.send(msg_leave("pair")));
        CHECK(third.join("pair").members_size() == 2);

        // Two rooms at once at most.
        third.join("open-a");
        CHECK(third.error_reply(third.send(msg_join("open-b"))) == v1::TOO_MANY_ROOMS);
        third.reply(third.send(msg_leave("open-a")));
        third.join("open-b");
        // Leave everything so the next round starts empty.
        second.ws().close();
        third.ws().close();
        first.ws().close();
        CHECK(eventually([&] { return api_member_count(server, "pair") == 0u; }));
    }
}

}  // namespace
}  // namespace haven::test
