// For the configuration tests: what parse_config says about a text.
#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"

namespace haven::test {

// The message of the ConfigError that parsing `text` (named test.toml) raises, or "" when it
// parses.
inline std::string config_error_of(std::string_view text) {
    try {
        config::parse_config(text, "test.toml");
    } catch (const config::ConfigError& error) {
        return error.what();
    }
    return "";
}

}  // namespace haven::test
