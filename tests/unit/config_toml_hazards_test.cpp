// Tests for the text refused before toml++ 3.3 reads it (config/toml_hazards.hpp): where the
// parser would run into undefined behaviour or a failed assertion, the loader answers with a
// one-line ConfigError naming the line and column instead, and text outside ASCII keeps
// working wherever TOML allows it.
#include "config/config.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "unit/config_error_of.hpp"

namespace {

using haven::config::parse_config;
using haven::test::config_error_of;

// A one-room configuration with `title` as the room's title line, written as given.
std::string room_titled(std::string_view title) {
    return "[[rooms]]\nid = \"lobby\"\n" + std::string(title) +
           "\ntopic = \"t\"\nkind = \"drop_in\"\n";
}

}  // namespace

TEST_CASE("config: the two bytes CF BF (U+03FF) are refused with their position") {
    CHECK(config_error_of("\xCF\xBF") ==
          "config test.toml: line 1, column 1: only ASCII is allowed outside strings and "
          "comments (got U+03FF)");
}

TEST_CASE("config: text outside ASCII where TOML allows only ASCII is refused") {
    // One from each block toml++ 3.3 cannot classify (U+00E9, U+0416, U+3042, U+FEFE), and
    // one it can (U+2603): every such place is refused alike.
    const std::string cases[] = {
        "\xC3\xA9 = 1",                                 // a bare key
        "[server]\nport = 8080\xD0\x96\n",              // right after a value
        "[limits]\npost_burst = 1=\"\xE3\x81\x82\"\n",  // a quote inside a bare value
        "[history]\n  \xEF\xBB\xBE\n",                  // indentation
        "[server]\naddress = \"127.0.0.1\" \xE2\x98\x83\n",
    };
    for (const std::string& text : cases) {
        INFO("toml: " << text);
        const std::string message = config_error_of(text);
        CHECK(message.find(": only ASCII is allowed outside strings and comments (got U+") !=
              std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    }
    CHECK(config_error_of("[server]\nport = 8080\xD0\x96\n") ==
          "config test.toml: line 2, column 12: only ASCII is allowed outside strings and "
          "comments (got U+0416)");
    CHECK(config_error_of("a = \"x\" \xFF") ==
          "config test.toml: line 1, column 9: only ASCII is allowed outside strings and "
          "comments (got byte 0xFF, which is not UTF-8)");
}

TEST_CASE("config: a character outside ASCII after a line-ending backslash is refused") {
    // toml++ issue 190: U+00A7 starting the line after a line-ending backslash.
    CHECK(config_error_of("s = \"\"\"\\\n\xC2\xA7\"\"\"\n") ==
          "config test.toml: line 2, column 1: in a multi-line string the first character "
          "after a backslash (and the line break and indentation it removes) must be ASCII "
          "(got U+00A7); write it as \\u00A7");
    CHECK(config_error_of(room_titled("title = \"\"\"Evening \\\n   \xC3\xA9t\xC3\xA9\"\"\""))
              .find("line 4, column 4: in a multi-line string") != std::string::npos);
    // The escape the message suggests is accepted.
    CHECK(config_error_of(room_titled("title = \"\"\"Evening \\\n   \\u00E9t\xC3\xA9\"\"\"")) ==
          "");
}

TEST_CASE("config: a table header that does not start with a key is refused") {
    CHECK(config_error_of("[&") ==
          "config test.toml: line 1, column 2: a table header must start with a key (got '&')");
    CHECK(config_error_of("[server]\n[[[rooms]]]\n") ==
          "config test.toml: line 2, column 3: a table header must start with a key (got '[')");
    CHECK(config_error_of("[ \n") ==
          "config test.toml: line 1, column 3: a table header must start with a key (got "
          "U+000A)");
    // A '[' at the start of a line inside a multi-line array opens an array, not a header:
    // the error is the option's own.
    CHECK(config_error_of("[server]\nallowed_origins = [\n[&]\n]\n").find("table header") ==
          std::string::npos);
}

TEST_CASE("config: a date-time whose T is not followed by a digit is refused") {
    CHECK(config_error_of("[log]\nlevel = 1979-05-27t:\n") ==
          "config test.toml: line 2, column 20: a date-time must have its time right after the T "
          "(got ':')");
    // NUL bytes run on into the value as toml++ reads it (found by config_fuzz).
    CHECK(config_error_of("a = [1979-05-27T" + std::string(2, '\0') + " 07:32:00Z]")
              .find("line 1, column 17: a date-time must have its time right after the T (got "
                    "U+0000)") != std::string::npos);
    // A well-formed one reaches the option's own check.
    CHECK(config_error_of("[log]\nlevel = 1979-05-27T07:32:00Z\n") ==
          "config test.toml: log.level: must be a string (got date-time)");
}

TEST_CASE("config: a date, a space and a one-digit hour is refused (found by config_fuzz)") {
    CHECK(config_error_of("[log]\nlevel = 1979-05-27 7 \n") ==
          "config test.toml: line 2, column 20: a time after a date needs a two-digit hour (got "
          "'7')");
    CHECK(config_error_of("a = [1979-05-27 7, 1]").find("two-digit hour") != std::string::npos);
    CHECK(config_error_of("a=198=-05-2a 7 ").find("two-digit hour") != std::string::npos);
    // Underscores do not count towards the shape.
    CHECK(config_error_of("a=198=-05-____________________________2a 7 ").find("two-digit hour") !=
          std::string::npos);
    CHECK(config_error_of("a = 1_979-05-27 7\n").find("two-digit hour") != std::string::npos);
    // A well-formed one, and a date on its own, reach the option's own check.
    CHECK(config_error_of("[log]\nlevel = 1979-05-27 07:32:00\n") ==
          "config test.toml: log.level: must be a string (got date-time)");
    CHECK(config_error_of("[log]\nlevel = 1979-05-27 \n") ==
          "config test.toml: log.level: must be a string (got date)");
}

TEST_CASE("config: a '}' where an array expects a value is refused") {
    CHECK(config_error_of("[server]\nallowed_origins = [\"https://a.example\", }]\n") ==
          "config test.toml: line 2, column 41: a '}' cannot close an array");
    CHECK(config_error_of("a = { b = [} }").find("line 1, column 12: a '}' cannot close") !=
          std::string::npos);
    // After a value it is toml++'s own error.
    CHECK(config_error_of("a = [1 }]").find("cannot close an array") == std::string::npos);
}

TEST_CASE("config: text outside ASCII in strings and comments is accepted") {
    const std::string text =
        "\xEF\xBB\xBF# Ελληνικά, Кириллица, ☕\n"  // a byte order mark, then a comment
        "[server] # caf\xC3\xA9\n"
        "address = \"127.0.0.1\"\n" +
        room_titled("title = \"Caf\xC3\xA9 \xE3\x81\x82 \xEF\xBB\xBE\"") +
        "[[rooms]]\nid = 'r2'\ntitle = '''caf\xC3\xA9'''\n"
        "topic = \"\"\"\\u00E9\xC3\xA9 \"\xC3\xA9\" \\\n  \"\xC3\xA9\"\"\"\"\nkind = \"group\"\n";
    INFO("toml: " << text);
    CHECK(config_error_of(text) == "");
    const auto config = parse_config(text, "test.toml");
    REQUIRE(config.rooms.size() == 2);
    CHECK(config.rooms[0].title == "Caf\xC3\xA9 \xE3\x81\x82 \xEF\xBB\xBE");
    CHECK(config.rooms[1].title == "caf\xC3\xA9");
    CHECK(config.rooms[1].topic == "\xC3\xA9\xC3\xA9 \"\xC3\xA9\" \"\xC3\xA9\"");
}
