#include "auth/guest_names.hpp"

#include <array>

#include "auth/handle_policy.hpp"
#include "protocol/utf8.hpp"

namespace haven::auth {
namespace {

constexpr std::array<std::string_view, 16> kAdjectives = {
    "Quiet",   "Gentle", "Calm", "Kind",  "Bright", "Steady", "Warm",  "Hopeful",
    "Patient", "Brave",  "Soft", "Clear", "Open",   "Still",  "Sunny", "Thoughtful"};
constexpr std::array<std::string_view, 16> kNouns = {
    "Heron", "Willow",  "River", "Maple", "Sparrow", "Harbor", "Meadow", "Cedar",
    "Otter", "Lantern", "Fern",  "Robin", "Pebble",  "Birch",  "Wren",   "Tide"};

bool allowed_ascii(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '-' || c == '_' || c == '.';
}

}  // namespace

std::string random_guest_handle(std::mt19937_64& rng) {
    std::uniform_int_distribution<std::size_t> adjective(0, kAdjectives.size() - 1);
    std::uniform_int_distribution<std::size_t> noun(0, kNouns.size() - 1);
    // Four digits: 16 x 16 x 9,000 names, so two people given one in a room of 200 (who
    // could not both be in it: handles are unique per room) is about 1 in 100, not 1 in 2.
    std::uniform_int_distribution<int> number(1000, 9999);
    return std::string(kAdjectives[adjective(rng)]) + " " + std::string(kNouns[noun(rng)]) + " " +
           std::to_string(number(rng));
}

std::optional<std::string> clean_handle(std::string_view wanted_text) {
    const std::optional<std::string> visible = strip_invisible(wanted_text);
    if (!visible) return std::nullopt;
    const std::string_view wanted = *visible;
    std::string out;
    for (char c : wanted) {
        // Non-ASCII letters are welcome; ASCII is limited to a readable set, which keeps out
        // control characters and markup.
        const bool ascii = static_cast<unsigned char>(c) < 0x80;
        if (ascii && !allowed_ascii(c)) return std::nullopt;
        if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
        out.push_back(c);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    const auto length = protocol::utf8_length(out);
    if (!length || *length < 2 || *length > 32) return std::nullopt;
    return out;
}

}  // namespace haven::auth
