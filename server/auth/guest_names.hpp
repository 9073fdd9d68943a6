// Friendly handles for guests, who never give a real name.
#pragma once

#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace haven::auth {

// e.g. "Quiet Heron 2741".
std::string random_guest_handle(std::mt19937_64& rng);

// A handle the person chose, cleaned up: invisible characters removed (strip_invisible),
// surrounding spaces trimmed, inner runs of spaces folded. Nothing when it is not 2 to 32 letters,
// digits, spaces, '-', '_' or '.'.
std::optional<std::string> clean_handle(std::string_view wanted);

}  // namespace haven::auth
