#include "auth/base64url.hpp"

#include <array>
#include <cstdint>

namespace haven::auth {

namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t invalid = 0xff;

// Reverse lookup built at compile time; every byte not in the alphabet (including '=', '+'
// and '/') maps to `invalid`.
constexpr std::array<std::uint8_t, 256> make_decode_table() {
    std::array<std::uint8_t, 256> table{};
    table.fill(invalid);
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    }
    return table;
}

constexpr auto decode_table = make_decode_table();

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
    // One leftover character carries only 6 bits, less than a byte: no encoder produces it.
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (const char c : text) {
        const std::uint8_t value = decode_table[static_cast<unsigned char>(c)];
        if (value == invalid) {
            return std::nullopt;
        }
        bits = (bits << 6) | value;
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            out.push_back(static_cast<char>((bits >> bit_count) & 0xff));
        }
    }
    // The bits left over after the last whole byte must be zero; otherwise several texts would
    // decode to the same bytes (e.g. a signature could be altered without changing its value).
    if ((bits & ((1u << bit_count) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (const char c : bytes) {
        bits = (bits << 8) | static_cast<unsigned char>(c);
        bit_count += 8;
        while (bit_count >= 6) {
            bit_count -= 6;
            out.push_back(alphabet[(bits >> bit_count) & 0x3f]);
        }
    }
    if (bit_count > 0) {
        // Pad the final group with zero bits; no '=' characters are added.
        out.push_back(alphabet[(bits << (6 - bit_count)) & 0x3f]);
    }
    return out;
}

}  // namespace haven::auth
