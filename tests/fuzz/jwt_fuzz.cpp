// Fuzzes token verification: any text is a verified token or a refusal with its reason.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const haven::auth::JwtVerifier verifier(
        {"a-fuzzing-secret-that-is-long-enough", "", 30});
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    (void)verifier.verify(token, 1'700'000'000);
    return 0;
}
