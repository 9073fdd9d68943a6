// The owner's view of who is in a room: presence events in version order, repeats dropped,
// a missed change noticed, and a snapshot putting the view right with the difference told.
#include <doctest/doctest.h>

#include <set>

#include "rooms/room_presence.hpp"

using haven::rooms::RoomPresence;
namespace v1 = haven::v1;

namespace {

v1::Member member(const std::string& id) {
    v1::Member m;
    m.set_member_id(id);
    m.set_handle("h-" + id);
    return m;
}

v1::Event change(const std::string& id, bool joined, std::uint64_t version) {
    v1::Event event;
    event.set_room_id("room");
    event.set_presence_version(version);
    *(joined ? event.mutable_member_joined()->mutable_member()
             : event.mutable_member_left()->mutable_member()) = member(id);
    return event;
}

std::set<std::string> ids(const RoomPresence& view) {
    std::set<std::string> out;
    for (const auto& m : view.members()) out.insert(m.member_id());
    return out;
}

// Applies the corrections a resync returns to a copy of what a client was shown.
std::set<std::string> told(std::set<std::string> shown, const std::vector<v1::Event>& events) {
    for (const auto& event : events) {
        if (event.has_member_joined()) shown.insert(event.member_joined().member().member_id());
        if (event.has_member_left()) shown.erase(event.member_left().member().member_id());
    }
    return shown;
}

}  // namespace

TEST_CASE("presence view: events in version order apply, repeats and events before a start drop") {
    RoomPresence view;
    CHECK(view.apply(change("a", true, 1)) == RoomPresence::Verdict::stale);  // no start yet
    view.reset({member("a")}, 1);
    CHECK(view.apply(change("a", true, 1)) == RoomPresence::Verdict::stale);
    CHECK(view.apply(change("b", true, 2)) == RoomPresence::Verdict::applied);
    CHECK(view.apply(change("a", false, 3)) == RoomPresence::Verdict::applied);
    CHECK(view.apply(change("a", false, 3)) == RoomPresence::Verdict::stale);
    CHECK(ids(view) == std::set<std::string>{"b"});
    CHECK(view.version() == 3);
    CHECK_FALSE(view.has_gap());
}

TEST_CASE(
    "presence view: a skipped version is a gap that a newer snapshot closes, telling the "
    "difference") {
    RoomPresence view;
    view.reset({member("a"), member("b")}, 2);
    // Version 3 ("c" joined) never arrives; 4 does.
    CHECK(view.apply(change("d", true, 4)) == RoomPresence::Verdict::gap);
    CHECK(view.has_gap());
    const std::set<std::string> shown = ids(view);  // a, b, d
    // The stored truth at version 5: "c" came, "a" left.
    auto corrections = view.resync("room", {member("b"), member("c"), member("d")}, 5, 1000);
    CHECK_FALSE(view.has_gap());
    CHECK(view.version() == 5);
    CHECK(ids(view) == std::set<std::string>{"b", "c", "d"});
    CHECK(told(shown, corrections) == ids(view));
    for (const auto& event : corrections) {
        CHECK(event.room_id() == "room");
        CHECK(event.time_ms() == 1000);
    }
}

TEST_CASE("presence view: a snapshot older than the view is brought forward with what came since") {
    RoomPresence view;
    view.reset({member("a")}, 1);
    CHECK(view.apply(change("c", true, 3)) == RoomPresence::Verdict::gap);  // 2 missed
    CHECK(view.apply(change("a", false, 4)) == RoomPresence::Verdict::gap);
    // Read at version 2 ("b" joined there), answered after 3 and 4 arrived.
    auto corrections = view.resync("room", {member("a"), member("b")}, 2, 0);
    CHECK(ids(view) == std::set<std::string>{"b", "c"});
    CHECK(view.version() == 4);
    CHECK_FALSE(view.has_gap());  // 3 and 4 were seen: nothing after 2 is missing
    CHECK(told({"c"}, corrections) == ids(view));
    // A snapshot that leaves versions unaccounted for is not taken and keeps the gap open.
    RoomPresence other;
    other.reset({}, 1);
    CHECK(other.apply(change("x", true, 5)) == RoomPresence::Verdict::gap);
    bool taken = true;
    other.resync("room", {member("y")}, 3, 0, &taken);  // 4 is still unknown
    CHECK_FALSE(taken);
    CHECK(other.has_gap());
    CHECK(ids(other) == std::set<std::string>{"x"});
}

TEST_CASE("presence view: clear forgets everything until the next start") {
    RoomPresence view;
    view.reset({member("a")}, 7);
    view.clear();
    CHECK_FALSE(view.known());
    CHECK(view.members().empty());
    CHECK(view.apply(change("b", true, 8)) == RoomPresence::Verdict::stale);
    CHECK(view.resync("room", {member("b")}, 8, 0).empty());
}

TEST_CASE("presence view: a snapshot too old to bring forward is not taken") {
    RoomPresence view;
    view.reset({member("a")}, 10);
    CHECK(view.apply(change("b", true, 11)) == RoomPresence::Verdict::applied);
    // Read at version 5: the changes between 5 and 10 are not kept, so it cannot be trusted.
    bool taken = true;
    const auto corrections = view.resync("room", {member("x")}, 5, 0, &taken);
    CHECK_FALSE(taken);
    CHECK(corrections.empty());
    CHECK(ids(view) == std::set<std::string>{"a", "b"});
    // A current one is.
    view.resync("room", {member("b")}, 11, 0, &taken);
    CHECK(taken);
    CHECK(ids(view) == std::set<std::string>{"b"});
}

TEST_CASE("presence view: an event without a version is applied and asks for a snapshot") {
    RoomPresence view;
    view.reset({member("a")}, 4);
    CHECK(view.apply(change("b", true, 0)) == RoomPresence::Verdict::gap);
    CHECK(ids(view) == std::set<std::string>{"a", "b"});
    CHECK(view.has_gap());
    CHECK(view.apply(change("b", true, 0)) == RoomPresence::Verdict::stale);  // no change
    bool taken = false;
    view.resync("room", {member("a"), member("b")}, 4, 0, &taken);
    CHECK(taken);
    CHECK_FALSE(view.has_gap());
}
