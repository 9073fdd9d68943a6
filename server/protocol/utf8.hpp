// UTF-8 checks for text the server stores and forwards.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace haven::protocol {

// Number of code points in `text`, or nothing when it is not well-formed UTF-8 (overlong
// forms, surrogates and values past U+10FFFF are rejected).
std::optional<std::size_t> utf8_length(std::string_view text);

}  // namespace haven::protocol
