// Contact-detail redaction. The rules and their limits are described in the header.
#include "moderation/redactor.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>
#include <optional>
#include <vector>

namespace haven::moderation {
namespace {

// E.164: at most 15 digits including the country code. Seven is the shortest subscriber
// number in common use; anything shorter is far more often a count, a year or a short code
// such as a crisis line (988, 116 123).
constexpr std::size_t kMinPhoneDigits = 7;
constexpr std::size_t kMaxPhoneDigits = 15;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_non_ascii(char c) {
    return static_cast<unsigned char>(c) >= 0x80;
}
bool is_word_char(char c) {
    return is_ascii_letter(c) || is_digit(c) || c == '_';
}

bool digit_at(std::string_view text, std::size_t pos) {
    return pos < text.size() && is_digit(text[pos]);
}

// Every cut is made next to an ASCII character or at an end of the text, and non-ASCII bytes
// are always taken or left as a whole run, which is what keeps UTF-8 characters intact.
struct Span {
    std::size_t begin;
    std::size_t end;
};

// ---- e-mail ----------------------------------------------------------------------------------

bool is_local_part_char(char c) {
    return is_ascii_letter(c) || is_digit(c) || is_non_ascii(c) || c == '.' || c == '_' ||
           c == '%' || c == '+' || c == '-';
}

bool is_domain_char(char c) {
    return is_ascii_letter(c) || is_digit(c) || is_non_ascii(c) || c == '.' || c == '-';
}

bool is_top_level_label(std::string_view label) {
    if (label.size() < 2) return false;
    if (label.starts_with("xn--")) return true;  // internationalised, in ASCII form
    return std::all_of(label.begin(), label.end(),
                       [](char c) { return is_ascii_letter(c) || is_non_ascii(c); });
}

bool is_domain(std::string_view domain) {
    std::size_t labels = 0;
    while (true) {
        const std::size_t dot = domain.find('.');
        const std::string_view label = domain.substr(0, dot);
        if (label.empty()) return false;
        ++labels;
        if (dot == std::string_view::npos) return labels >= 2 && is_top_level_label(label);
        domain.remove_prefix(dot + 1);
    }
}

// The address around the '@' at `at`, not reaching back before `floor` (the end of the
// previous redaction).
std::optional<Span> email_around(std::string_view text, std::size_t at, std::size_t floor) {
    std::size_t begin = at;
    while (begin > floor && is_local_part_char(text[begin - 1])) --begin;
    while (begin < at && text[begin] == '.') ++begin;  // "...me@x.org": the dots are prose
    if (begin == at) return std::nullopt;

    std::size_t end = at + 1;
    while (end < text.size() && is_domain_char(text[end])) ++end;
    while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
    if (!is_domain(text.substr(at + 1, end - at - 1))) return std::nullopt;
    return Span{begin, end};
}

// Each '@' looks left and right only as far as the neighbouring '@' (not an address
// character), so the whole pass is linear.
std::string redact_emails(std::string_view text, unsigned& count) {
    std::string out;
    out.reserve(text.size());
    std::size_t copied = 0;
    for (std::size_t at = text.find('@'); at != std::string_view::npos;
         at = text.find('@', std::max(at + 1, copied))) {
        const std::optional<Span> email = email_around(text, at, copied);
        if (!email) continue;
        out.append(text.substr(copied, email->begin - copied));
        out.append(kEmailRemoved);
        copied = email->end;
        ++count;
    }
    out.append(text.substr(copied));
    return out;
}

// ---- phone numbers ---------------------------------------------------------------------------

// Byte length of a space-like character at `pos`: ASCII space, U+00A0 no-break space or
// U+202F narrow no-break space (French and German typography put these inside numbers).
std::size_t space_length(std::string_view text, std::size_t pos) {
    if (text[pos] == ' ') return 1;
    if (text.substr(pos, 2) == "\xC2\xA0") return 2;
    if (text.substr(pos, 3) == "\xE2\x80\xAF") return 3;
    return 0;
}

struct Separator {
    std::size_t length = 0;  // bytes; 0 = no separator here
    char lone_mark = '\0';   // '-', '.' or '/' when that is the whole separator (dates)
};

// What may join two digit groups: at most three characters, with at most one of . - / and
// at most one of each parenthesis ("555-1234", "(555) 123", "+44 (0) 20", "555 - 1234").
Separator read_separator(std::string_view text, std::size_t pos) {
    constexpr int kMaxCharacters = 3;
    Separator separator;
    int characters = 0;
    int marks = 0;
    int opening = 0;
    int closing = 0;
    std::size_t cursor = pos;
    while (cursor < text.size() && characters < kMaxCharacters) {
        const char c = text[cursor];
        std::size_t length = space_length(text, cursor);
        if (length == 0 && (c == '.' || c == '-' || c == '/') && marks++ == 0) length = 1;
        if (length == 0 && c == '(' && opening++ == 0) length = 1;
        if (length == 0 && c == ')' && closing++ == 0) length = 1;
        if (length == 0) break;
        cursor += length;
        ++characters;
    }
    separator.length = cursor - pos;
    if (separator.length == 1 && (text[pos] == '-' || text[pos] == '.' || text[pos] == '/')) {
        separator.lone_mark = text[pos];
    }
    return separator;
}

struct PhoneCandidate {
    Span span{0, 0};
    std::string digits;
    std::array<std::size_t, kMaxPhoneDigits> group_sizes{};
    std::array<char, kMaxPhoneDigits> marks{};  // lone mark before each group after the first
    std::size_t groups = 0;
    bool too_long = false;
};

// "10:30": a group written right before ':' and a digit is the hour of a time and is never
// part of a phone number.
bool is_hour(std::string_view text, std::size_t group_end) {
    return group_end < text.size() && text[group_end] == ':' && digit_at(text, group_end + 1);
}

// Reads digit groups joined by separators from `start`, stopping early once there are more
// digits than a phone number can have, so each attempt costs a bounded amount of work.
PhoneCandidate read_candidate(std::string_view text, std::size_t start) {
    PhoneCandidate candidate;
    candidate.span = {start, start};
    std::size_t pos = start;
    if (text[pos] == '+') ++pos;
    if (text[pos] == '(') ++pos;
    char mark = '\0';
    while (true) {
        const std::size_t group_begin = pos;
        while (digit_at(text, pos) && candidate.digits.size() <= kMaxPhoneDigits) {
            candidate.digits += text[pos++];
        }
        if (candidate.digits.size() > kMaxPhoneDigits) {
            candidate.too_long = true;
            return candidate;
        }
        if (is_hour(text, pos)) {
            candidate.digits.resize(candidate.digits.size() - (pos - group_begin));
            return candidate;
        }
        candidate.group_sizes[candidate.groups] = pos - group_begin;
        candidate.marks[candidate.groups] = mark;
        ++candidate.groups;
        candidate.span.end = pos;

        const Separator separator = read_separator(text, pos);
        if (separator.length == 0 || !digit_at(text, pos + separator.length)) return candidate;
        pos += separator.length;
        mark = separator.lone_mark;
    }
}

// 2024-05-01, 2024.5.1, 01/05/2024, 1-5-2024: three groups, one repeated mark, a four-digit
// year at one end.
bool looks_like_date(const PhoneCandidate& candidate) {
    if (candidate.groups != 3) return false;
    const char mark = candidate.marks[1];
    if (mark == '\0' || candidate.marks[2] != mark) return false;
    const auto& size = candidate.group_sizes;
    const bool year_first = size[0] == 4 && size[1] <= 2 && size[2] <= 2;
    const bool year_last = size[0] <= 2 && size[1] <= 2 && size[2] == 4;
    return year_first || year_last;
}

bool is_currency_sign_before(std::string_view text, std::size_t pos) {
    const std::string_view before = text.substr(0, pos);
    return before.ends_with('$') || before.ends_with("\xE2\x82\xAC")  // €
           || before.ends_with("\xC2\xA3")                            // £
           || before.ends_with("\xC2\xA5");                           // ¥
}

// A number may start here: at a digit, or at '+' or '(' that opens one, and not glued to
// the word, number or price before it, nor to the ':' of a time ("10:30").
bool can_start_phone(std::string_view text, std::size_t pos) {
    const char c = text[pos];
    const bool opens =
        (c == '+' && (digit_at(text, pos + 1) || (pos + 1 < text.size() && text[pos + 1] == '(' &&
                                                  digit_at(text, pos + 2)))) ||
        (c == '(' && digit_at(text, pos + 1));
    if (!is_digit(c) && !opens) return false;
    if (pos == 0) return true;
    const char before = text[pos - 1];
    if (is_word_char(before) || is_currency_sign_before(text, pos)) return false;
    return !(before == ':' && pos >= 2 && is_digit(text[pos - 2]));
}

bool is_phone(std::string_view text, const PhoneCandidate& candidate) {
    if (candidate.too_long || candidate.digits.size() < kMinPhoneDigits) return false;
    if (candidate.span.end < text.size() && is_word_char(text[candidate.span.end])) return false;
    return !looks_like_date(candidate);
}

std::string digits_of(std::string_view text) {
    std::string digits;
    std::copy_if(text.begin(), text.end(), std::back_inserter(digits), is_digit);
    return digits;
}

std::string redact_phones(std::string_view text, std::span<const std::string> phones_to_keep,
                          unsigned& count) {
    std::vector<std::string> kept_digits;
    kept_digits.reserve(phones_to_keep.size());
    for (const std::string& phone : phones_to_keep) kept_digits.push_back(digits_of(phone));

    std::string out;
    out.reserve(text.size());
    std::size_t copied = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        if (!can_start_phone(text, pos)) {
            ++pos;
            continue;
        }
        const PhoneCandidate candidate = read_candidate(text, pos);
        if (!is_phone(text, candidate)) {
            ++pos;  // a later group may still start a number ("2019 0612345678")
            continue;
        }
        const bool keep = std::find(kept_digits.begin(), kept_digits.end(), candidate.digits) !=
                          kept_digits.end();
        if (!keep) {
            out.append(text.substr(copied, candidate.span.begin - copied));
            out.append(kPhoneRemoved);
            copied = candidate.span.end;
            ++count;
        }
        pos = candidate.span.end;  // a kept number stays whole; its tail is not retried
    }
    out.append(text.substr(copied));
    return out;
}

}  // namespace

RedactionResult redact_contact_details(std::string_view text,
                                       std::span<const std::string> phones_to_keep) {
    RedactionResult result;
    // E-mail first: an address may contain digits ("jo.5551234567@x.org") and must go whole.
    const std::string without_emails = redact_emails(text, result.emails);
    result.text = redact_phones(without_emails, phones_to_keep, result.phones);
    return result;
}

}  // namespace haven::moderation
