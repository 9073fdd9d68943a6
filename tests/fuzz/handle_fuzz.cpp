// Fuzzes handle folding: any bytes, as a guest's chosen name or a token's, go through the
// checks a handle meets at Hello. Asserts what the rooms rely on: the stripped handle is UTF-8
// and stripping again changes nothing, keys are UTF-8, and an invisible character added to a
// handle never changes its key (so it cannot make a look-alike name unique).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/guest_names.hpp"
#include "auth/handle_policy.hpp"
#include "protocol/utf8.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const haven::auth::HandlePolicy policy(
        {"moderator", "crisis line", "haven", "peer supporter"});
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    (void)haven::auth::clean_handle(input);
    const std::optional<std::string> stripped = haven::auth::strip_invisible(input);
    if (!stripped) return 0;
    require(haven::protocol::utf8_length(*stripped).has_value());
    require(haven::auth::strip_invisible(*stripped) == stripped);

    const std::string key = haven::auth::handle_key(*stripped);
    require(haven::protocol::utf8_length(key).has_value());
    require(haven::auth::handle_key(input) == key);
    require(haven::auth::handle_key("\u200b" + *stripped + "\u2060") == key);
    require(haven::protocol::utf8_length(haven::auth::loose_handle_key(*stripped)).has_value());
    (void)policy.reserved(*stripped);
    return 0;
}
