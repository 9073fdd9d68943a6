// Reach out: who may answer a private conversation, for how long, and how many are kept.
#include <doctest/doctest.h>

#include "moderation/check_in_threads.hpp"

using haven::moderation::CheckInThread;
using haven::moderation::CheckInThreads;

TEST_CASE("check-ins: a conversation lasts while it is used, and the oldest go past capacity") {
    CheckInThreads threads(2, 60'000);
    threads.wrote("crisis:lobby:1", {"lobby", "robin", "maya", 1'000});
    REQUIRE(threads.find("crisis:lobby:1", 30'000).has_value());
    CHECK(threads.find("crisis:lobby:1", 30'000)->moderator_subject == "maya");
    CHECK(threads.find("crisis:lobby:1", 30'000)->author_subject == "robin");
    // An answer keeps it alive past the first message's idle time.
    threads.touch("crisis:lobby:1", 50'000);
    CHECK(threads.find("crisis:lobby:1", 100'000).has_value());
    CHECK_FALSE(threads.find("crisis:lobby:1", 110'000).has_value());  // idle for 60 s
    CHECK(threads.size() == 0);

    // Another moderator writing takes the conversation over.
    threads.wrote("crisis:lobby:2", {"lobby", "kai", "maya", 1'000});
    threads.wrote("crisis:lobby:2", {"lobby", "kai", "noor", 2'000});
    CHECK(threads.find("crisis:lobby:2", 3'000)->moderator_subject == "noor");
    // Past capacity the least recently used goes.
    threads.wrote("crisis:lobby:3", {"lobby", "sam", "maya", 3'000});
    threads.touch("crisis:lobby:2", 4'000);
    threads.wrote("crisis:lobby:4", {"lobby", "ivy", "maya", 5'000});
    CHECK(threads.size() == 2);
    CHECK(threads.find("crisis:lobby:2", 6'000).has_value());
    CHECK_FALSE(threads.find("crisis:lobby:3", 6'000).has_value());
    CHECK(threads.find("crisis:lobby:4", 6'000).has_value());
}

TEST_CASE("check-ins: a conversation is kept in the broker as bytes that read back the same") {
    using haven::moderation::decode_check_in;
    using haven::moderation::encode_check_in;
    // Subjects may hold any character, the separators included.
    const CheckInThread thread{"lobby", "guest:7:ro:bin", "mod\n12", 5};
    const auto back = decode_check_in(encode_check_in(thread), 9000);
    REQUIRE(back);
    CHECK(back->room_id == "lobby");
    CHECK(back->author_subject == "guest:7:ro:bin");
    CHECK(back->moderator_subject == "mod\n12");
    CHECK(back->last_ms == 9000);  // read now: the broker's expiry stands for its age
    // Anything else is refused, not guessed at.
    for (const std::string bad : {"", "5:lobby", "5:lobby3:abc", "5:lobby3:abc4:mod", "x:lobby",
                                  "5:lobby0:3:mod", "5:lobby3:abc3:modtrailing", "99:lobby"}) {
        CAPTURE(bad);
        CHECK_FALSE(decode_check_in(bad, 0));
    }
}
