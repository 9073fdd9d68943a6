#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/ws_frame_reader.hpp"
#include "unit/client_frames.hpp"
#include "unit/frame_recorder.hpp"

using namespace haven::net;
using haven::test::client_frame;
using haven::test::concat;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kFin = 0x80;

using Recorder = haven::test::FrameRecorder;

constexpr std::uint32_t kMax = 1024;

// Feeds `bytes` in pieces ending at `cuts` (ascending), as the session does: what a call
// leaves unused is kept and given again with the next piece after it.
std::vector<std::string> feed(const Bytes& bytes, const std::vector<std::size_t>& cuts,
                              std::uint32_t max = kMax) {
    ws::FrameReader reader(max);
    Recorder recorder;
    Bytes pending;
    std::size_t from = 0;
    std::vector<std::size_t> ends = cuts;
    ends.push_back(bytes.size());
    for (const std::size_t to : ends) {
        pending.insert(pending.end(), bytes.begin() + static_cast<std::ptrdiff_t>(from),
                       bytes.begin() + static_cast<std::ptrdiff_t>(to));
        from = to;
        const auto result = reader.process(pending.data(), pending.size(), recorder);
        REQUIRE(result.used <= pending.size());
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(result.used));
    }
    if (!reader.stopped()) CHECK(pending.empty());
    return recorder.events;
}

std::vector<std::string> feed_whole(const Bytes& bytes, std::uint32_t max = kMax) {
    return feed(bytes, {}, max);
}

// The same events however the bytes are cut: in two at every byte boundary, and one byte
// at a time.
void check_every_split(const Bytes& bytes, const std::vector<std::string>& expected) {
    REQUIRE(feed_whole(bytes) == expected);
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        INFO("cut at " << cut);
        REQUIRE(feed(bytes, {cut}) == expected);
    }
    std::vector<std::size_t> every;
    for (std::size_t cut = 1; cut < bytes.size(); ++cut) every.push_back(cut);
    REQUIRE(feed(bytes, every) == expected);
}

}  // namespace

TEST_CASE("the frame reader reports the same messages however the bytes are split") {
    const std::string medium(300, 'm');  // a 16-bit length
    const Bytes bytes = concat({
        client_frame(kFin | ws::text, "hello"),
        client_frame(kFin | ws::binary, std::string("\x00\xff\x80", 3)),
        client_frame(kFin | ws::ping, "are you there"),
        client_frame(kFin | ws::text, ""),
        client_frame(kFin | ws::binary, medium),
        client_frame(kFin | ws::pong, "yes"),
        client_frame(kFin | ws::close,
                     "\x03\xe8"
                     "bye"),
    });
    check_every_split(bytes, {"text:hello", std::string("binary:\x00\xff\x80", 10),
                              "ping:are you there", "text:", "binary:" + medium, "pong:yes",
                              "close:\x03\xe8"
                              "bye"});
}

TEST_CASE("fragmented messages are assembled around control frames in between") {
    const Bytes bytes = concat({
        client_frame(ws::text, "frag"),
        client_frame(kFin | ws::ping, "p1"),
        client_frame(ws::continuation, "men"),
        client_frame(kFin | ws::pong, ""),
        client_frame(kFin | ws::continuation, "ted"),
        client_frame(ws::binary, "b1"),
        client_frame(kFin | ws::continuation, "b2"),
        client_frame(kFin | ws::text, "after"),
    });
    check_every_split(bytes, {"ping:p1", "pong:", "text:fragmented", "binary:b1b2", "text:after"});
}

TEST_CASE("a text message is checked for UTF-8 whole, not per fragment") {
    // U+00E9 split between two fragments: each alone is not UTF-8, the message is.
    const Bytes split_char =
        concat({client_frame(ws::text, "caf\xc3"), client_frame(kFin | ws::continuation, "\xa9")});
    check_every_split(split_char, {"text:caf\xc3\xa9"});
    CHECK(feed_whole(client_frame(kFin | ws::text, "caf\xc3")) ==
          std::vector<std::string>{"fail:1007"});
    CHECK(feed_whole(concat({client_frame(ws::text, "ok"),
                             client_frame(kFin | ws::continuation, "\xed\xa0\x80")})) ==
          std::vector<std::string>{"fail:1007"});
    // Binary messages are not text: any bytes go.
    CHECK(feed_whole(client_frame(kFin | ws::binary, "\xc3")) ==
          std::vector<std::string>{"binary:\xc3"});
}

TEST_CASE("unfragmented messages are handed over where they lie in the caller's buffer") {
    Bytes bytes =
        concat({client_frame(kFin | ws::binary, "first"), client_frame(kFin | ws::text, "second")});
    ws::FrameReader reader(kMax);
    Recorder recorder;
    const auto result = reader.process(bytes.data(), bytes.size(), recorder);
    CHECK(result.used == bytes.size());
    CHECK(result.needed == 0);
    REQUIRE(recorder.views.size() == 2);
    const char* begin = reinterpret_cast<const char*>(bytes.data());
    const char* end = begin + bytes.size();
    for (const std::string_view view : recorder.views) {
        CHECK(view.data() >= begin);
        CHECK(view.data() + view.size() <= end);
    }
    CHECK(recorder.views[0] == "first");  // unmasked in place
    CHECK(recorder.views[1] == "second");
}

TEST_CASE("several frames read at once (sent with the upgrade request) are all handled") {
    Bytes bytes;
    std::vector<std::string> expected;
    for (int i = 0; i < 20; ++i) {
        const std::string text = "message " + std::to_string(i);
        const Bytes frame = client_frame(kFin | ws::text, text);
        bytes.insert(bytes.end(), frame.begin(), frame.end());
        expected.push_back("text:" + text);
    }
    const Bytes partial = client_frame(kFin | ws::text, "the start of one more");
    bytes.insert(bytes.end(), partial.begin(), partial.begin() + 9);
    ws::FrameReader reader(kMax);
    Recorder recorder;
    const auto result = reader.process(bytes.data(), bytes.size(), recorder);
    CHECK(recorder.events == expected);
    CHECK(result.used == bytes.size() - 9);
    CHECK(result.needed == partial.size());  // its header is there: its size is known
}

TEST_CASE("an incomplete frame reports its whole size once its header is complete") {
    const Bytes frame = client_frame(kFin | ws::binary, std::string(500, 'x'));
    REQUIRE(frame.size() == 2 + 2 + 4 + 500);
    for (std::size_t have = 0; have < frame.size(); ++have) {
        INFO("have " << have);
        Bytes part(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(have));
        ws::FrameReader reader(kMax);
        Recorder recorder;
        const auto result = reader.process(part.data(), part.size(), recorder);
        CHECK(result.used == 0);
        CHECK(result.needed == (have >= 8 ? frame.size() : 0));
        CHECK(recorder.events.empty());
    }
}

TEST_CASE("the frame reader refuses what breaks the protocol or the size limit") {
    using Events = std::vector<std::string>;
    SUBCASE("a data frame over the limit, refused on its header alone") {
        const Bytes frame = client_frame(kFin | ws::binary, std::string(kMax + 1, 'x'));
        CHECK(feed_whole(Bytes(frame.begin(), frame.begin() + 8)) == Events{"fail:1009"});
        CHECK(feed_whole(client_frame(kFin | ws::binary, std::string(kMax, 'x'))) ==
              Events{"binary:" + std::string(kMax, 'x')});
    }
    SUBCASE("a fragmented message over the limit in total") {
        const std::string half(kMax / 2, 'h');
        CHECK(feed_whole(concat(
                  {client_frame(ws::text, half), client_frame(kFin | ws::continuation, half)})) ==
              Events{"text:" + half + half});
        CHECK(feed_whole(concat({client_frame(ws::text, half), client_frame(ws::continuation, half),
                                 client_frame(kFin | ws::continuation, "x")})) ==
              Events{"fail:1009"});
    }
    SUBCASE("control frames longer than 125 bytes or fragmented") {
        CHECK(feed_whole(client_frame(kFin | ws::ping, std::string(126, 'p'))) ==
              Events{"fail:1002"});
        CHECK(feed_whole(client_frame(kFin | ws::ping, std::string(125, 'p'))) ==
              Events{"ping:" + std::string(125, 'p')});
        CHECK(feed_whole(client_frame(ws::ping, "")) == Events{"fail:1002"});
    }
    SUBCASE("reserved opcodes and bits, unmasked frames") {
        for (const std::uint8_t opcode : {0x3, 0x7, 0xB, 0xF}) {
            CHECK(feed_whole(client_frame(static_cast<std::uint8_t>(kFin | opcode), "")) ==
                  Events{"fail:1002"});
        }
        CHECK(feed_whole(client_frame(kFin | 0x40 | ws::text, "rsv1")) == Events{"fail:1002"});
        CHECK(feed_whole(Bytes{kFin | ws::text, 0x01, 'x'}) == Events{"fail:1002"});
    }
    SUBCASE("a continuation with no message started") {
        CHECK(feed_whole(client_frame(kFin | ws::continuation, "x")) == Events{"fail:1002"});
        CHECK(feed_whole(concat(
                  {client_frame(kFin | ws::text, "done"), client_frame(ws::continuation, "x")})) ==
              Events{"text:done", "fail:1002"});
    }
    SUBCASE("a new message while one is being assembled") {
        CHECK(feed_whole(concat({client_frame(ws::text, "a"),
                                 client_frame(kFin | ws::binary, "b")})) == Events{"fail:1002"});
    }
}

TEST_CASE("nothing is read after a close frame or a protocol failure") {
    Bytes bytes =
        concat({client_frame(kFin | ws::text, "before"), client_frame(kFin | ws::close, ""),
                client_frame(kFin | ws::text, "after")});
    ws::FrameReader reader(kMax);
    Recorder recorder;
    reader.process(bytes.data(), bytes.size(), recorder);
    CHECK(reader.stopped());
    Bytes more = client_frame(kFin | ws::text, "later");
    const auto result = reader.process(more.data(), more.size(), recorder);
    CHECK(result.used == 0);
    CHECK(recorder.events == std::vector<std::string>{"text:before", "close:"});

    Bytes failing = concat(
        {client_frame(kFin | ws::text, "\xff"), client_frame(kFin | ws::ping, "unanswered")});
    ws::FrameReader failed(kMax);
    Recorder failures;
    failed.process(failing.data(), failing.size(), failures);
    CHECK(failed.stopped());
    CHECK(failures.events == std::vector<std::string>{"fail:1007"});
}
