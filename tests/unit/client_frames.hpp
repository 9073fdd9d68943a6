// Masked client frames built by hand, as a browser would send them, for the framing tests.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace haven::test {

// One client frame; `first_byte` is FIN | RSV | opcode. Every length form is written in its
// shortest encoding.
inline std::vector<std::uint8_t> client_frame(std::uint8_t first_byte, std::string_view payload,
                                              std::array<std::uint8_t, 4> mask = {1, 2, 3, 4}) {
    std::vector<std::uint8_t> out{first_byte};
    if (payload.size() < 126) {
        out.push_back(static_cast<std::uint8_t>(0x80 | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        out.push_back(0x80 | 126);
        out.push_back(static_cast<std::uint8_t>(payload.size() >> 8));
        out.push_back(static_cast<std::uint8_t>(payload.size()));
    } else {
        out.push_back(0x80 | 127);
        for (int i = 7; i >= 0; --i)
            out.push_back(static_cast<std::uint8_t>(payload.size() >> (8 * i)));
    }
    out.insert(out.end(), mask.begin(), mask.end());
    for (std::size_t i = 0; i < payload.size(); ++i) {
        out.push_back(static_cast<std::uint8_t>(payload[i]) ^ mask[i & 3]);
    }
    return out;
}

// Frames back to back, as one read might bring them.
inline std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> frames) {
    std::vector<std::uint8_t> out;
    for (const auto& frame : frames) out.insert(out.end(), frame.begin(), frame.end());
    return out;
}

}  // namespace haven::test
