// Fuzzes what runs over every post's text: the UTF-8 check, crisis-language normalisation and
// matching against the shipped lists, and contact-detail redaction keeping the shipped crisis
// lines' numbers, as post screening calls it. Asserted for every valid post: the normalised
// form is lower-case words of a-z between single spaces and normalises to itself, a scan of
// it finds what a scan of the post finds (a configured phrase of its own locale), and
// redaction only ever replaces whole addresses and numbers by its markers and keeps the
// text valid UTF-8.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "moderation/crisis_detector.hpp"
#include "moderation/redactor.hpp"
#include "protocol/utf8.hpp"

namespace {

namespace moderation = haven::moderation;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "text_fuzz: %s\n", what);
    std::abort();
}

struct Shipped {
    std::vector<moderation::LocaleList> lists = moderation::load_crisis_lists(HAVEN_CRISIS_DIR);
    moderation::CrisisDetector detector{lists};
    std::vector<std::string> phones_to_keep = [this] {
        std::vector<std::string> phones;
        for (const auto& list : lists) {
            for (const auto& resource : list.resources) {
                if (!resource.phone.empty()) phones.push_back(resource.phone);
            }
        }
        return phones;
    }();
};

std::size_t occurrences(std::string_view text, std::string_view marker) {
    std::size_t count = 0;
    for (std::size_t at = text.find(marker); at != std::string_view::npos;
         at = text.find(marker, at + marker.size())) {
        ++count;
    }
    return count;
}

void check_normalised(std::string_view text) {
    const std::string normalised = moderation::normalize_for_matching(text);
    const bool letters_and_spaces = std::all_of(normalised.begin(), normalised.end(), [](char c) {
        return c == ' ' || (c >= 'a' && c <= 'z');
    });
    if (!letters_and_spaces) fail("normalised text holds more than a-z and spaces");
    if (!normalised.empty() && (normalised.front() == ' ' || normalised.back() == ' ')) {
        fail("normalised text starts or ends with a space");
    }
    if (normalised.find("  ") != std::string::npos) fail("normalised text has a double space");
    if (moderation::normalize_for_matching(normalised) != normalised) {
        fail("normalised text does not normalise to itself");
    }
}

// Punctuation carries sentences and clauses (negation and context reach only within them), so
// a post and its normalised form may rightly scan differently; what must hold is that a scan
// is repeatable, names an entry its locale has, and quotes words of the post.
void check_scan(const Shipped& shipped, std::string_view text) {
    const auto match = shipped.detector.scan(text);
    const auto again = shipped.detector.scan(text);
    if (match.has_value() != again.has_value() || (match && match->rule != again->rule)) {
        fail("scanning the same post twice differs");
    }
    if (!match) return;
    const auto list = std::find_if(shipped.lists.begin(), shipped.lists.end(),
                                   [&](const auto& l) { return l.locale == match->locale; });
    if (list == shipped.lists.end()) fail("a match names a locale there is no list for");
    const bool phrase =
        std::find(list->phrases.begin(), list->phrases.end(), match->phrase) != list->phrases.end();
    const bool rule = std::any_of(list->rules.begin(), list->rules.end(),
                                  [&](const auto& r) { return r.pattern == match->phrase; });
    if (!phrase && !rule) fail("a match names an entry its locale does not have");
    if (match->excerpt.empty() || text.find(match->excerpt) == std::string_view::npos) {
        fail("a match quotes words that are not in the post");
    }
}

void check_redaction(const Shipped& shipped, std::string_view text) {
    const auto result = moderation::redact_contact_details(text, shipped.phones_to_keep);
    if (result.emails == 0 && result.phones == 0 && result.text != text) {
        fail("text changed with nothing redacted");
    }
    if (occurrences(result.text, moderation::kEmailRemoved) !=
            occurrences(text, moderation::kEmailRemoved) + result.emails ||
        occurrences(result.text, moderation::kPhoneRemoved) !=
            occurrences(text, moderation::kPhoneRemoved) + result.phones) {
        fail("the counts do not match the markers put in");
    }
    if (!haven::protocol::utf8_length(result.text)) fail("redaction split a character");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Shipped shipped;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!haven::protocol::utf8_length(text)) return 0;  // the server refuses such posts
    check_normalised(text);
    check_scan(shipped, text);
    check_redaction(shipped, text);
    return 0;
}
