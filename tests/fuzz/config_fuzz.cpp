// Fuzzes the configuration loader: any text is a Config or a ConfigError naming why. Any other
// exception escapes the target and is reported as a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)haven::config::parse_config(text, "fuzz.toml");
    } catch (const haven::config::ConfigError&) {
    }
    return 0;
}
