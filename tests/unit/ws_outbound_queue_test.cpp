#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/ws_outbound_queue.hpp"

using namespace haven::net;
using boost::asio::const_buffer;
using haven::protocol::ws::server_header;
using haven::protocol::ws::ServerHeader;

namespace {

haven::protocol::Frame payload(std::string text) {
    return std::make_shared<const std::string>(std::move(text));
}

// The bytes a gather list points at, in order.
std::string flatten(const std::vector<const_buffer>& gather) {
    std::string out;
    for (const const_buffer& part : gather) {
        out.append(static_cast<const char*>(part.data()), part.size());
    }
    return out;
}

// What the server frames for `entries` look like on the wire.
std::string framed(std::uint8_t opcode, const std::string& text) {
    const ServerHeader header = server_header(opcode, text.size());
    return std::string(reinterpret_cast<const char*>(header.bytes.data()), header.size) + text;
}

haven::config::LimitsConfig limits(std::uint32_t bytes, std::uint32_t messages) {
    haven::config::LimitsConfig out;
    out.outbound_queue_bytes = bytes;
    out.outbound_queue_messages = messages;
    return out;
}

}  // namespace

TEST_CASE("the outbound queue admits within its bounds, and one entry when empty") {
    const auto bounds = limits(100, 3);
    ws::OutboundQueue queue;
    CHECK(queue.fits(1000, 50, bounds));  // empty: one reply of any size
    queue.push(ws::binary, payload(std::string(1000, 'x')));
    CHECK_FALSE(queue.fits(1, 1, bounds));  // the big one already fills it: a slow consumer
    queue.clear();
    CHECK(queue.empty());

    queue.push(ws::binary, payload(std::string(60, 'a')));
    CHECK(queue.fits(40, 1, bounds));
    CHECK_FALSE(queue.fits(41, 1, bounds));
    queue.push(ws::binary, payload(std::string(40, 'b')));
    CHECK(queue.bytes() == 100);
    CHECK(queue.frames() == 2);
    CHECK_FALSE(queue.fits(1, 1, bounds));
    CHECK(queue.fits(0, 1, bounds));
    CHECK_FALSE(queue.fits(0, 2, bounds));  // 3 messages at most

    // A batch counts all its frames.
    ws::OutboundQueue batches;
    batches.push_framed(2, payload(framed(ws::binary, "1") + framed(ws::binary, "2")));
    CHECK(batches.frames() == 2);
    CHECK(batches.entries() == 1);
    CHECK(batches.fits(1, 1, bounds));
    CHECK_FALSE(batches.fits(1, 2, bounds));
}

namespace {

// Entries of every header size (2, 4 and 10 bytes), an empty payload and a batch already
// framed, queued into `queue`; `wire`, when given, gets the bytes they make on the wire.
void fill(ws::OutboundQueue& queue, const std::vector<haven::protocol::Frame>& payloads,
          std::string* wire = nullptr) {
    static const haven::protocol::Frame batch =
        payload(framed(ws::text, "b1") + framed(ws::text, "b2"));
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        queue.push(ws::binary, payloads[i]);
        if (wire != nullptr) *wire += framed(ws::binary, *payloads[i]);
        if (i == 1) {
            queue.push_framed(2, batch);
            if (wire != nullptr) *wire += *batch;
        }
    }
}

// Whether `gather` points at exactly wire[from, end), compared in place.
bool gathers_suffix(const std::vector<const_buffer>& gather, const std::string& wire,
                    std::size_t from) {
    std::size_t at = from;
    for (const const_buffer& part : gather) {
        if (part.size() == 0 || at + part.size() > wire.size()) return false;
        if (wire.compare(at, part.size(), static_cast<const char*>(part.data()), part.size()) != 0)
            return false;
        at += part.size();
    }
    return at == wire.size();
}

}  // namespace

TEST_CASE("every partial write leaves exactly the unwritten rest to gather") {
    const std::vector<haven::protocol::Frame> payloads = {
        payload("one"), payload(std::string(200, 'm')), payload(""), payload("last")};
    std::vector<const_buffer> gather;
    ws::OutboundQueue reference;
    std::string wire;
    fill(reference, payloads, &wire);
    reference.gather(gather);
    REQUIRE(flatten(gather) == wire);

    // A write of every byte count k, then a second of every count the rest allows, then one
    // of everything left: each time what is gathered is exactly what was not written.
    for (std::size_t first = 0; first <= wire.size(); ++first) {
        for (std::size_t second = 0; first + second <= wire.size(); ++second) {
            ws::OutboundQueue queue;
            fill(queue, payloads);
            queue.gather(gather);
            queue.consume(first);
            queue.gather(gather);
            REQUIRE_MESSAGE(gathers_suffix(gather, wire, first), "after " << first);
            queue.consume(second);
            queue.gather(gather);
            REQUIRE_MESSAGE(gathers_suffix(gather, wire, first + second),
                            "after " << first << " and " << second);
            queue.consume(wire.size() - first - second);
            REQUIRE(queue.empty());
            REQUIRE(queue.bytes() == 0);
            REQUIRE(queue.frames() == 0);
        }
    }
}

TEST_CASE("partial writes through a frame with a 64-bit length lose and repeat nothing") {
    const std::vector<haven::protocol::Frame> payloads = {
        payload("a"), payload(std::string(70000, 'l')), payload("z")};
    std::string wire;
    {
        ws::OutboundQueue reference;
        fill(reference, payloads, &wire);
    }
    std::vector<const_buffer> gather;
    for (std::size_t written = 0; written <= wire.size(); ++written) {
        ws::OutboundQueue queue;
        fill(queue, payloads);
        queue.gather(gather);
        queue.consume(written);
        queue.gather(gather);
        REQUIRE_MESSAGE(gathers_suffix(gather, wire, written), "after " << written);
    }
}

TEST_CASE("a write covers at most kMaxFramesPerWrite entries") {
    ws::OutboundQueue queue;
    const std::size_t total = ws::OutboundQueue::kMaxFramesPerWrite + 10;
    std::string wire;
    for (std::size_t i = 0; i < total; ++i) {
        const std::string text = std::to_string(i);
        queue.push(ws::text, payload(text));
        wire += framed(ws::text, text);
    }
    std::vector<const_buffer> gather;
    CHECK(queue.gather(gather) == ws::OutboundQueue::kMaxFramesPerWrite);
    std::string written = flatten(gather);
    queue.consume(written.size());
    CHECK(queue.entries() == 10);
    CHECK(queue.gather(gather) == 10);
    written += flatten(gather);
    CHECK(written == wire);
}

TEST_CASE("an asynchronous write keeps its entries until it completes") {
    ws::OutboundQueue queue;
    queue.push(ws::text, payload("a"));
    queue.push(ws::text, payload("b"));
    std::vector<const_buffer> gather;
    std::vector<ServerHeader> headers;
    queue.gather_in_flight(gather, headers);
    const std::string in_flight = flatten(gather);
    CHECK(in_flight == framed(ws::text, "a") + framed(ws::text, "b"));
    // Queued meanwhile (and possibly moving the entries): the write's list still holds.
    for (int i = 0; i < 100; ++i) queue.push(ws::text, payload("later"));
    CHECK(flatten(gather) == in_flight);
    queue.drop_unsent();  // a close: the in-flight ones stay
    CHECK(queue.entries() == 2);
    queue.complete_in_flight();
    CHECK(queue.empty());
    CHECK(queue.bytes() == 0);
}

TEST_CASE("dropping what waits keeps a frame partly written") {
    ws::OutboundQueue queue;
    queue.push(ws::text, payload("first"));
    queue.push(ws::text, payload("second"));
    queue.push(ws::text, payload("third"));
    std::vector<const_buffer> gather;
    queue.gather(gather);
    queue.consume(3);  // part of "first"
    queue.drop_unsent();
    CHECK(queue.entries() == 1);
    CHECK(queue.bytes() == 5);
    queue.gather(gather);
    CHECK(flatten(gather) == framed(ws::text, "first").substr(3));

    // Nothing written yet: everything goes.
    ws::OutboundQueue untouched;
    untouched.push(ws::text, payload("x"));
    untouched.gather(gather);
    untouched.consume(0);
    untouched.drop_unsent();
    CHECK(untouched.empty());
}

TEST_CASE("a waiting pong takes the latest ping's payload, a gathered one keeps its own") {
    ws::OutboundQueue queue;
    CHECK_FALSE(queue.replace_waiting_pong(payload("none waits")));
    queue.push(ws::text, payload("data"));
    queue.push_pong(payload("p1"));
    CHECK(queue.replace_waiting_pong(payload("ping two")));
    CHECK(queue.entries() == 2);
    CHECK(queue.bytes() == 4 + 8);
    std::vector<const_buffer> gather;
    queue.gather(gather);
    CHECK(flatten(gather) == framed(ws::text, "data") + framed(ws::pong, "ping two"));
    // Handed to a write: it goes out as gathered, and the next ping needs a pong of its own.
    CHECK_FALSE(queue.replace_waiting_pong(payload("p3")));
    queue.consume(2);
    queue.push_pong(payload("p3"));
    CHECK(queue.replace_waiting_pong(payload("p4")));
    queue.gather(gather);
    CHECK(flatten(gather) == (framed(ws::text, "data") + framed(ws::pong, "ping two")).substr(2) +
                                 framed(ws::pong, "p4"));

    // After many entries were taken off the front, the waiting pong is still found.
    ws::OutboundQueue busy;
    for (int i = 0; i < 300; ++i) {
        busy.push(ws::text, payload("x"));
        busy.gather(gather);
        busy.consume(flatten(gather).size());
    }
    busy.push(ws::text, payload("y"));
    busy.push_pong(payload("a"));
    CHECK(busy.replace_waiting_pong(payload("bb")));
    busy.gather(gather);
    CHECK(flatten(gather) == framed(ws::text, "y") + framed(ws::pong, "bb"));

    // Dropping what waits drops the waiting pong and forgets it.
    ws::OutboundQueue closing;
    closing.push_pong(payload("a"));
    closing.drop_unsent();
    CHECK(closing.empty());
    CHECK_FALSE(closing.replace_waiting_pong(payload("b")));
}
