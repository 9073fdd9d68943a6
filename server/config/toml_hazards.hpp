// The configuration text that toml++ 3.3 (Debian's) cannot be trusted with, found before it
// reads the text. All of it is invalid TOML or next to it, but the parser reacts with
// undefined behaviour or a failed assertion instead of a parse error:
// - Asked whether a character outside ASCII is whitespace, it reaches __builtin_unreachable()
//   for U+00A1-U+0499, U+2C5E-U+3057 (but U+3000) and U+FB26-U+FEFE: é, Greek and Cyrillic
//   included (toml++ issues 190 and 295). It asks wherever TOML allows only ASCII (outside
//   strings and comments), and in a multi-line basic string right after a backslash and the
//   whitespace and line breaks that follow it.
// - A table header whose first key character is neither a bare-key character nor a quote
//   ("[&", "[[[") breaks an assumption of its key parser (toml++ issue 294), a date-time
//   whose T is not followed by a digit ("1979-05-27t:") or a date, a space and a one-digit
//   hour ("1979-05-27 7 ") one of its time parser, and a '}' where an array expects a value
//   ("[1, }") one of its value parser.
// Inside strings and comments any character stays allowed, so room titles and topics can be
// written in any language.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace haven::config {

struct TextHazard {
    std::size_t line = 1;    // 1-based
    std::size_t column = 1;  // 1-based, in characters as toml++ counts them
    std::string what;        // one line, e.g. "only ASCII is allowed outside strings ..."
};

// The first such place in `text`, or nothing when toml++ can be given it.
std::optional<TextHazard> find_toml_hazard(std::string_view text);

}  // namespace haven::config
