#include <doctest/doctest.h>

#include "core/clock.hpp"
#include "rooms/room_list_encoder.hpp"

using namespace haven;

namespace {

std::vector<config::RoomConfig> sample_rooms() {
    return {
        {"lobby", "Lobby", "Say hello", config::RoomKind::drop_in, 50},
        {"evening", "Evening group", "", config::RoomKind::group, 12},
        {"quiet", "", "A topic with ünïcode", config::RoomKind::meeting, 300000},
    };
}

v1::ServerMessage welcome_without_rooms(std::uint64_t request_id) {
    v1::ServerMessage message;
    message.set_request_id(request_id);
    v1::Welcome* welcome = message.mutable_welcome();
    welcome->set_session_id("abc-1");
    welcome->set_handle("River");
    welcome->set_role(v1::ROLE_PARTICIPANT);
    welcome->set_server_time_ms(1'790'000'000'000);
    welcome->mutable_limits()->set_max_rooms(8);
    welcome->set_guest_token("pass");
    return message;
}

// What the generated code makes of the same Welcome built field by field.
v1::ServerMessage reference(v1::ServerMessage message, const rooms::RoomDirectory& directory) {
    for (const config::RoomConfig& room : directory.all()) {
        v1::RoomInfo* info = message.mutable_welcome()->add_rooms();
        info->set_id(room.id);
        info->set_title(room.title);
        info->set_topic(room.topic);
        info->set_kind(std::string(config::to_string(room.kind)));
        info->set_capacity(room.capacity);
        info->set_member_count(directory.member_count(room.id));
    }
    return message;
}

}  // namespace

TEST_CASE("the assembled binary Welcome decodes to the message built field by field") {
    rooms::RoomDirectory directory(sample_rooms(), 1);
    rooms::RoomListEncoder encoder(directory);
    // No members, a one-byte count, and counts needing two and three varint bytes.
    for (const std::uint32_t count : {0u, 7u, 300u, 70000u}) {
        for (const std::uint64_t request_id : {std::uint64_t{0}, std::uint64_t{1} << 40}) {
            directory.publish_member_count("lobby", count);
            directory.publish_member_count("quiet", count / 2);
            v1::ServerMessage message = welcome_without_rooms(request_id);
            const protocol::Frame frame =
                encoder.encode_welcome(message, protocol::Encoding::binary);

            v1::ServerMessage decoded;
            REQUIRE(decoded.ParseFromString(*frame));
            const v1::ServerMessage expected =
                reference(welcome_without_rooms(request_id), directory);
            CHECK(decoded.SerializeAsString() == expected.SerializeAsString());
            CHECK(decoded.welcome().rooms_size() == 3);
            CHECK(decoded.welcome().rooms(0).member_count() == count);
            CHECK(decoded.welcome().rooms(2).capacity() == 300000u);
            CHECK(decoded.welcome().guest_token() == "pass");
            CHECK(decoded.request_id() == request_id);
        }
    }
}

TEST_CASE("the JSON Welcome lists the same rooms") {
    rooms::RoomDirectory directory(sample_rooms(), 1);
    directory.publish_member_count("evening", 3);
    rooms::RoomListEncoder encoder(directory);
    v1::ServerMessage message = welcome_without_rooms(5);
    const protocol::Frame frame = encoder.encode_welcome(message, protocol::Encoding::json);

    v1::ServerMessage decoded;
    REQUIRE(protocol::decode_server(*frame, protocol::Encoding::json, decoded));
    const v1::ServerMessage expected = reference(welcome_without_rooms(5), directory);
    CHECK(decoded.SerializeAsString() == expected.SerializeAsString());
    CHECK(decoded.welcome().rooms(1).member_count() == 3);
}

TEST_CASE("a server without declared rooms sends a Welcome with no rooms") {
    rooms::RoomDirectory directory({}, 1);
    rooms::RoomListEncoder encoder(directory);
    v1::ServerMessage message = welcome_without_rooms(2);
    v1::ServerMessage decoded;
    REQUIRE(decoded.ParseFromString(*encoder.encode_welcome(message, protocol::Encoding::binary)));
    CHECK(decoded.welcome().rooms_size() == 0);
    CHECK(decoded.welcome().handle() == "River");
}

TEST_CASE("a meeting room's next meeting is in the Welcome, in both encodings alike") {
    std::vector<config::RoomConfig> rooms = sample_rooms();
    config::MeetingScheduleConfig schedule;
    schedule.time_zone = "Europe/Berlin";
    schedule.days = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};  // always one soon
    schedule.start = "19:00";
    rooms[2].schedule = schedule;
    rooms::RoomDirectory directory(rooms, 1);
    rooms::RoomListEncoder encoder(directory);
    directory.publish_member_count("quiet", 3);

    v1::ServerMessage binary_message = welcome_without_rooms(9);
    v1::ServerMessage binary;
    REQUIRE(binary.ParseFromString(
        *encoder.encode_welcome(binary_message, protocol::Encoding::binary)));
    v1::ServerMessage json_message = welcome_without_rooms(9);
    const protocol::Frame json_frame =
        encoder.encode_welcome(json_message, protocol::Encoding::json);
    REQUIRE(json_message.welcome().rooms_size() == 3);

    const v1::RoomInfo& quiet = binary.welcome().rooms(2);
    CHECK(quiet.member_count() == 3);
    REQUIRE(quiet.has_next_meeting());
    const v1::MeetingTimes& next = quiet.next_meeting();
    CHECK(next.time_zone() == "Europe/Berlin");
    CHECK(next.doors_open_ms() == next.start_ms() - 10 * 60'000);
    CHECK(next.late_entry_until_ms() == next.start_ms() + 15 * 60'000);
    CHECK(next.end_ms() == next.start_ms() + 90 * 60'000);
    CHECK(next.end_ms() > core::wall_ms());
    CHECK(next.start_ms() < core::wall_ms() + 25ULL * 3'600'000);  // daily: within a day
    // The JSON Welcome carries the same occurrence; rooms without a schedule carry none.
    CHECK(json_message.welcome().rooms(2).next_meeting().start_ms() == next.start_ms());
    CHECK_FALSE(binary.welcome().rooms(0).has_next_meeting());
    CHECK_FALSE(json_message.welcome().rooms(1).has_next_meeting());
}
