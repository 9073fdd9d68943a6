// Fields that may hold any byte, kept side by side in one string: each as its length in
// decimal, ':' and the bytes. Used for what the broker keeps as one value.
#pragma once

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace haven::core {

inline void put_length_prefixed(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

// The next field of `in`, which is moved past it; nullopt when `in` does not start with one.
inline std::optional<std::string_view> take_length_prefixed(std::string_view& in) {
    const std::size_t colon = in.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::size_t size = 0;
    const auto [end, error] = std::from_chars(in.data(), in.data() + colon, size);
    if (error != std::errc{} || end != in.data() + colon || in.size() - colon - 1 < size) {
        return std::nullopt;
    }
    const std::string_view field = in.substr(colon + 1, size);
    in.remove_prefix(colon + 1 + size);
    return field;
}

}  // namespace haven::core
