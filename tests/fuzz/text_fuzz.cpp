// Fuzzes what runs over every post's text: the UTF-8 check, crisis-language normalisation and
// matching against the shipped lists, and contact-detail redaction.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "moderation/crisis_detector.hpp"
#include "moderation/redactor.hpp"
#include "protocol/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const haven::moderation::CrisisDetector detector(
        haven::moderation::load_crisis_lists(HAVEN_CRISIS_DIR));
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!haven::protocol::utf8_length(text)) return 0;  // the server refuses such posts
    (void)haven::moderation::normalize_for_matching(text);
    (void)detector.scan(text);
    (void)haven::moderation::redact_contact_details(text, {});
    return 0;
}
